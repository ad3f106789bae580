"""Core types and utilities shared by every other sub-package (errors, atomic I/O, hashing, settings)."""
