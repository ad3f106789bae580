"""Robustness of zero-shot transfer: synonym augmentation, input perturbations and generalized pairs."""
