"""A projection as a sentence-transformers model: [Transformer, mean Pooling, Dense(projection)].

The model then embeds language-X texts straight into the English space of the projection (the source-side
map x -> ((x - mu_s) A_s) W + b is one affine layer). The e5 "query: " prefix is kept as the model's
default prompt. sentence-transformers is optional (`pip install sentence-transformers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.alignment.projection import Projection, export_dense
from xlt.core.errors import XltError
from xlt.core.io import atomic_directory
from xlt.models.encoders import encoder_info, model_path


def export_sentence_transformers(encoder: str, projection: Projection, directory: Path) -> Path:
    """Write a sentence-transformers model directory that applies `projection` after `encoder`'s pooling."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise XltError(
            "exporting a sentence-transformers model needs the sentence-transformers package",
            "pip install sentence-transformers",
        ) from None
    try:
        from sentence_transformers.sentence_transformer.modules import Dense, Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense, Pooling, Transformer  # type: ignore[no-redef]

    info = encoder_info(encoder)
    transformer: Any = Transformer(model_path(encoder))
    # sentence-transformers 6 renamed get_word_embedding_dimension to get_embedding_dimension
    dimension = (
        getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    )
    dim = dimension()
    with atomic_directory(directory) as tmp:
        dense = Dense.load(str(export_dense(projection, tmp / "dense")))
        prompts = {"query": info.prefix} if info.prefix else None
        model = SentenceTransformer(
            modules=[transformer, Pooling(dim, "mean"), dense],
            device="cpu",
            prompts=prompts,
            default_prompt_name="query" if prompts else None,
        )
        model.save(str(tmp / "model"))
    return directory / "model"
