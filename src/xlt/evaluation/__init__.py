"""Zero-shot evaluation of trained encoders per language (the metrics themselves are `xlt.metrics`)."""
