"""Similarity between tasks: estimators and transferability scores."""
