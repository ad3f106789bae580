"""Readers of the real upstream benchmark files, in one canonical schema per task type."""
