"""The `xlt` command line."""
