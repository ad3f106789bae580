"""One module per upstream dataset layout."""
