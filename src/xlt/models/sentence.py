"""A sentence encoder: a Hugging Face transformer, mean pooling over the attention mask, and a prefix.

Only the encoder is carried between stages; heads live with the trainer of their task type.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from xlt.core.errors import ConfigError
from xlt.models.encoders import EncoderInfo, encoder_info, model_path, split_variant
from xlt.models.precision import Precision, autocast, resolve_precision

TRAINED_WEIGHTS = "encoder.safetensors"
ALIGNMENT_DIR = "alignment"


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _load_model(auto: Any, path: str, on_gpu: bool) -> Any:
    """Without a pooler; on CPU with eager attention, measured faster than SDPA here for sentence lengths."""
    kwargs: dict[str, Any] = {} if on_gpu else {"attn_implementation": "eager"}
    try:
        return auto.from_pretrained(path, add_pooling_layer=False, **kwargs)
    except (TypeError, ValueError):
        return auto.from_pretrained(path, **kwargs)


def _keep_first_layers(model: Any, layers: int, name: str) -> None:
    """Cut a transformer to its first `layers` layers, in place (BERT, XLM-R, DistilBERT, ... layouts)."""
    total = int(model.config.num_hidden_layers)
    if layers > total:
        raise ConfigError(
            f"encoder '{name}' asks for {layers} layers but the model has {total}",
            f"choose at most layers={total}",
        )
    for module in model.modules():
        for attribute in ("layer", "layers"):
            stack = getattr(module, attribute, None)
            if isinstance(stack, nn.ModuleList) and len(stack) == total:
                setattr(module, attribute, nn.ModuleList(list(stack)[:layers]))
                model.config.num_hidden_layers = layers
                return
    raise ConfigError(
        f"cannot find the layer stack of encoder '{name}' to cut it", "size variants support BERT-like models"
    )


class SentenceEncoder(nn.Module):
    def __init__(self, name: str, *, max_length: int | None = None, device: str | None = None) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        _quiet_transformers()
        self.info: EncoderInfo = encoder_info(name)
        path = model_path(name)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.transformer = _load_model(AutoModel, path, on_gpu=torch.cuda.is_available())
        except OSError as exc:
            raise ConfigError(
                f"cannot load encoder '{name}' from {path} ({str(exc).splitlines()[0]})",
                "check the model id or directory; hub downloads need network access",
            ) from exc
        layers = split_variant(name)[1].get("layers")
        if layers is not None:
            _keep_first_layers(self.transformer, layers, name)
        self.max_length = min(max_length or self.info.max_length, self.tokenizer.model_max_length)
        self.device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.to(self.device_)

    @property
    def dim(self) -> int:
        return int(self.transformer.config.hidden_size)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(
            [self.info.prefix + text for text in texts],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {k: v.to(self.device_) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        encoded = self.tokenizer(
            [self.info.prefix + text for text in texts], truncation=True, max_length=self.max_length
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def tokenize_pairs(self, first: Sequence[str], second: Sequence[str]) -> dict[str, torch.Tensor]:
        """Both texts in one input (cross-encoder); the prefix goes before the first text."""
        batch = self.tokenizer(
            [self.info.prefix + text for text in first],
            list(second),
            padding=True,
            truncation="longest_first",
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {k: v.to(self.device_) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def token_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden: torch.Tensor = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        return hidden

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = mean_pool(self.token_states(input_ids, attention_mask), attention_mask)
        if self.alignment is None:
            return pooled
        return self._aligned(pooled)

    # ---- cross-lingual alignment: a projection of language-X embeddings after the pooling -------------
    alignment: Any = None  # xlt.alignment.projection.MultiProjection, or None
    language: str | None = None  # language of the texts being encoded; None = English

    def _aligned(self, pooled: torch.Tensor) -> torch.Tensor:
        from xlt.tasks.iso639 import canonical

        language = canonical(self.language) if self.language else "en"
        if language != "en" and language in self.alignment:
            out: torch.Tensor = self.alignment.transform_source(language, pooled.float())
        else:  # English (and languages without a projection) in the projections' English space
            out = self.alignment.transform_target(pooled.float())
        return out.to(pooled.dtype)

    @contextmanager
    def speaking(self, language: str | None) -> Iterator[None]:
        """Encode the texts of the block as `language` (which selects its projection, if aligned)."""
        previous, self.language = self.language, language
        try:
            yield
        finally:
            self.language = previous

    @torch.inference_mode()
    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        normalize: bool = True,
    ) -> np.ndarray:
        """Embeddings of `texts` (float32, L2-normalised by default), batched by length to avoid padding."""
        was_training = self.training
        self.eval()
        resolved = resolve_precision(precision)
        lengths = self.token_lengths(texts)
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = self.tokenize([texts[i] for i in idx])
            with autocast(resolved, self.device_):
                emb = self(**batch).float()
            if normalize:
                emb = nn.functional.normalize(emb, dim=-1)
            out[idx] = emb.cpu().numpy()
        self.train(was_training)
        return out

    def freeze_word_embeddings(self) -> None:
        self.transformer.get_input_embeddings().weight.requires_grad_(False)

    def set_dropout(self, rate: float) -> None:
        for module in self.modules():
            if isinstance(module, nn.Dropout):
                module.p = rate

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.named_parameters() if p.requires_grad}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(state) - {n for n, _ in self.named_parameters()}
        if missing:
            raise ConfigError(
                f"saved weights do not fit encoder '{self.info.name}' ({sorted(missing)[:2]})",
                "retrain the stage with the same encoder",
            )
        self.load_state_dict(state, strict=False)

    def save_trained(self, directory: Path, metadata: dict[str, Any] | None = None) -> None:
        """Save the parameters training may have changed (frozen ones are restored from the base encoder),
        and the alignment projections, if any, under `alignment/`."""
        from safetensors.torch import save_file

        state = {n: t.contiguous().cpu() for n, t in self.trainable_state().items()}
        save_file(
            state, str(directory / TRAINED_WEIGHTS), metadata={k: str(v) for k, v in (metadata or {}).items()}
        )
        if self.alignment is not None:
            self.alignment.save(directory / ALIGNMENT_DIR)

    def load_trained(self, directory: Path) -> None:
        from safetensors.torch import load_file

        self.load_state(load_file(str(directory / TRAINED_WEIGHTS), device=str(self.device_)))
        if (directory / ALIGNMENT_DIR).is_dir():
            from xlt.alignment.projection import MultiProjection

            self.alignment = MultiProjection.load(directory / ALIGNMENT_DIR)
