"""Statistics over finished runs: gains with confidence intervals, and (later) correlations and selection."""
