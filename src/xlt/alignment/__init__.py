"""Cross-lingual alignment: linear maps from a language's sentence embeddings onto English ones."""
