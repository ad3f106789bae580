"""The run store: content-addressed stage directories, written atomically, reused when finished."""
