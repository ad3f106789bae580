"""Metrics (pure functions) and zero-shot evaluation of trained encoders per language."""
