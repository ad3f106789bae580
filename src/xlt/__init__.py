"""xlt: zero-shot cross-lingual transfer studies."""

__version__ = "0.1.0"
