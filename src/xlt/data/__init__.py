"""Readers of the real upstream benchmark files, returning `datasets.Dataset` objects in one schema per task type."""
