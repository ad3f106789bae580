"""Fine-tuning of encoders on English tasks, with English-dev model selection."""
