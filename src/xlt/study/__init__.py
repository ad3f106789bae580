"""Studies: a validated declarative config expanded into stages, executed, and summarised."""
