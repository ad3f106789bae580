"""Encoders: the built-in registry, the embedded default's conversion, and sentence-embedding modules."""
