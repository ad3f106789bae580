"""A sentence encoder: a Hugging Face transformer, mean pooling over the attention mask, a prefix, and
optionally an embedding module after the pooling (e.g. a cross-lingual alignment projection).

Only the encoder is carried between stages; heads live with the trainer of their task type.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from xlt.core.errors import ConfigError
from xlt.models import compiling, threads, tokens, unpadded
from xlt.models.encoders import EncoderInfo, encoder_info, model_path, split_variant
from xlt.models.modules import EmbeddingModule, load_module, save_module
from xlt.models.precision import Precision, autocast, resolve_precision

TRAINED_WEIGHTS = "encoder.safetensors"
# the directory of a trained encoder's embedding module (named for the one kind there is: an alignment)
ALIGNMENT_DIR = "alignment"
# the class of module directories written before they named their class in module.json
_LEGACY_MODULE = "xlt.alignment.multi.AlignmentModule"


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


# optimizer steps taken in this process, counted by a global post-step hook: a fused optimizer (xlt trains
# with fused AdamW) updates parameters without moving their version counters, so inference copies of the
# weights (`SentenceEncoder._bf16_transformer`) learn from this count that training may have moved them
_OPTIMIZER_STEPS = [0]


def _count_optimizer_step(optimizer: Any, args: Any, kwargs: Any) -> None:
    _OPTIMIZER_STEPS[0] += 1


register_optimizer_step_post_hook(_count_optimizer_step)


def _files_stamp(path: str) -> tuple[Any, ...]:
    """The tokenizer's identity for the token cache: its directory's files with their sizes and times (a
    hub id stands for itself)."""
    directory = Path(path)
    if not directory.is_dir():
        return (path,)
    files = [f for f in sorted(directory.iterdir()) if f.is_file()]
    return (str(directory.resolve()), *((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files))


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


# encoder-decoder families whose encoder stack alone is the sentence encoder (ByT5 is a "t5" model)
ENCODER_ONLY_CLASSES = {"t5": "T5EncoderModel", "mt5": "MT5EncoderModel", "umt5": "UMT5EncoderModel"}


def _load_model(auto: Any, path: str, on_gpu: bool) -> Any:
    """Without a pooler; on CPU with eager attention, measured faster than SDPA here for sentence lengths.
    An mT5 / umT5 / T5 / ByT5 checkpoint loads as its encoder stack only: the decoder is never built."""
    import transformers

    kwargs: dict[str, Any] = {} if on_gpu else {"attn_implementation": "eager"}
    config = transformers.AutoConfig.from_pretrained(path)
    if config.model_type in ENCODER_ONLY_CLASSES:
        encoder_class = getattr(transformers, ENCODER_ONLY_CLASSES[config.model_type])
        return encoder_class.from_pretrained(path, **kwargs)
    if getattr(config, "is_encoder_decoder", False):
        raise ConfigError(
            f"encoder {path} is an encoder-decoder of type '{config.model_type}', whose encoder xlt cannot "
            "load on its own",
            f"use an encoder-only model or one of the families {', '.join(ENCODER_ONLY_CLASSES)}",
        )
    try:
        return auto.from_pretrained(path, add_pooling_layer=False, **kwargs)
    except (TypeError, ValueError):
        return auto.from_pretrained(path, **kwargs)


def _keep_first_layers(model: Any, layers: int, name: str) -> None:
    """Cut a transformer to its first `layers` layers, in place (BERT, XLM-R, DistilBERT, T5 encoder, ...
    layouts)."""
    total = int(model.config.num_hidden_layers)
    if layers > total:
        raise ConfigError(
            f"encoder '{name}' asks for {layers} layers but the model has {total}",
            f"choose at most layers={total}",
        )
    for module in model.modules():
        for attribute in ("layer", "layers", "block"):
            stack = getattr(module, attribute, None)
            if isinstance(stack, nn.ModuleList) and len(stack) == total:
                setattr(module, attribute, nn.ModuleList(list(stack)[:layers]))
                model.config.num_hidden_layers = layers
                return
    raise ConfigError(
        f"cannot find the layer stack of encoder '{name}' to cut it",
        "size variants support BERT-like and T5-encoder models",
    )


def parameter_counts(name: str) -> tuple[int, int]:
    """(all parameters, parameters outside the word-embedding matrix) of an encoder as xlt builds it, size
    variants cut; built on the meta device from its config, so no weights are read. (0, 0) for a lexical
    scorer."""
    import transformers

    if encoder_info(name).kind != "transformer":
        return 0, 0
    _quiet_transformers()
    config = transformers.AutoConfig.from_pretrained(model_path(name))
    with torch.device("meta"):
        if config.model_type in ENCODER_ONLY_CLASSES:
            model = getattr(transformers, ENCODER_ONLY_CLASSES[config.model_type])(config)
        else:
            model = transformers.AutoModel.from_config(config)
    layers = split_variant(name)[1].get("layers")
    if layers is not None:
        _keep_first_layers(model, layers, name)
    total = sum(p.numel() for p in model.parameters())
    return total, total - model.get_input_embeddings().weight.numel()


# models whose position ids start after the padding index: two of their position embeddings are never used
_OFFSET_POSITIONS = frozenset({"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert"})


def _positions(model: nn.Module) -> int:
    """The longest input the model's absolute position embeddings allow (no limit for relative ones): a
    tokenizer may allow more than its model (a model directory built from another model's tokenizer)."""
    config = getattr(model, "config", None)
    positions = getattr(config, "max_position_embeddings", None)
    if not isinstance(positions, int) or getattr(config, "position_embedding_type", "absolute") != "absolute":
        return 1 << 30
    return positions - 2 if getattr(config, "model_type", "") in _OFFSET_POSITIONS else positions


def _hooked(module: nn.Module) -> bool:
    """Whether a forward hook or pre-hook is registered on `module` or any of its submodules."""
    return any(m._forward_hooks or m._forward_pre_hooks for m in module.modules())


def _last_hidden_state(
    module: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    states: torch.Tensor = module(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return states


class SentenceEncoder(nn.Module):
    def __init__(self, name: str, *, max_length: int | None = None, device: str | None = None) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        _quiet_transformers()
        self.info: EncoderInfo = encoder_info(name)
        path = model_path(name)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            # names the tokenizer in the process-wide token cache: its files and their modification times
            self._tokenizer_files = _files_stamp(path)
            self.transformer = _load_model(AutoModel, path, on_gpu=torch.cuda.is_available())
        except OSError as exc:
            raise ConfigError(
                f"cannot load encoder '{name}' from {path} ({str(exc).splitlines()[0]})",
                "check the model id or directory; hub downloads need network access",
            ) from exc
        layers = split_variant(name)[1].get("layers")
        if layers is not None:
            _keep_first_layers(self.transformer, layers, name)
        self.max_length = min(
            max_length or self.info.max_length, self.tokenizer.model_max_length, _positions(self.transformer)
        )
        self.device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.post_pooling: EmbeddingModule | None = None
        # inference copies of the transformer (see `_bf16_transformer`): a plain dict, so never a submodule
        self._inference_copies: dict[str, tuple[tuple[int, tuple[tuple[int, int], ...]], nn.Module]] = {}
        self.to(self.device_)

    @property
    def dim(self) -> int:
        return int(self.transformer.config.hidden_size)

    def _token_ids(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> list[np.ndarray]:
        """Truncated ids of each (prefixed) text or text pair, tokenized once a process (`models.tokens`)."""
        setting = (self._tokenizer_files, self.info.prefix, self.max_length)
        prefixed = [self.info.prefix + text for text in texts]
        return tokens.token_ids(self.tokenizer, setting, prefixed, pairs, max_length=self.max_length)

    def _batch(self, ids: list[np.ndarray]) -> dict[str, torch.Tensor]:
        batch = tokens.pad(ids, int(self.tokenizer.pad_token_id or 0), self.tokenizer.padding_side)
        return {k: v.to(self.device_) for k, v in batch.items()}

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """`input_ids` and `attention_mask` of a batch of texts, as the tokenizer pads them."""
        return self._batch(self._token_ids(texts))

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._token_ids(texts)]

    def tokenize_pairs(self, first: Sequence[str], second: Sequence[str]) -> dict[str, torch.Tensor]:
        """Both texts in one input (cross-encoder); the prefix goes before the first text."""
        return self._batch(self._token_ids(first, list(second)))

    def token_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The transformer's last hidden states. With compiled passes (or `XLT_UNPADDED=1`) a BERT-family
        encoder skips the padding (`models.unpadded`): its padding positions are then zero."""
        threads.tick()  # every task kind's forward passes here: the thread count follows the machine
        inference = self._bf16_transformer()
        module = self.transformer if inference is None else inference
        if unpadded.enabled() and unpadded.supports(module):
            call: Callable[..., torch.Tensor] = unpadded.forward
            inputs: tuple[torch.Tensor, ...] = (input_ids, *unpadded.layout(attention_mask))
        else:
            call, inputs = _last_hidden_state, (input_ids, attention_mask)
        if inference is not None:
            with torch.autocast(self.device_.type, enabled=False):
                return compiling.forward(call, inference, *inputs)
        if _hooked(self.transformer):  # hooks perturb the embeddings (robust training): not compiled
            return call(self.transformer, *inputs)
        return compiling.forward(call, self.transformer, *inputs)

    def _bf16_transformer(self) -> nn.Module | None:
        """A bf16 copy of the transformer, for forward passes without gradients under bf16 autocast; None
        otherwise. Autocast casts every weight to bf16 at every matmul; the copy holds them in bf16 once
        (about 1.3x faster embedding here, cosine to fp32 above 0.9999). It follows the weights: when any
        parameter changed in place since the copy was made (`load_state`), or an optimizer stepped since
        then, it is refreshed: every trainable parameter and every one whose version moved. (A fused
        optimizer updates parameters without moving their versions; a copy that trusted versions alone
        stayed at the weights of its first use through training.) Not while any module of the
        transformer carries a forward hook: the hooks act on the transformer, not on the copy, and the
        embedding attack and randomized smoothing perturb the input embeddings through one (before this
        rule, their bf16 evaluations ran unperturbed)."""
        device = self.device_.type
        if torch.is_grad_enabled() or self.transformer.training or _hooked(self.transformer):
            return None
        if not torch.is_autocast_enabled(device) or torch.get_autocast_dtype(device) != torch.bfloat16:
            return None
        params = list(self.transformer.parameters())
        steps = _OPTIMIZER_STEPS[0]
        versions = tuple((id(p), p._version) for p in params)
        cached = self._inference_copies.get("bf16")
        if cached is not None and cached[0] == (steps, versions):
            return cached[1]
        with torch.inference_mode(False), torch.no_grad():
            same_tensors = cached is not None and [i for i, _ in cached[0][1]] == [i for i, _ in versions]
            if cached is None or not same_tensors:  # first use, or parameters replaced (moved, reloaded)
                module = copy.deepcopy(self.transformer).to(torch.bfloat16).eval()
                module.requires_grad_(False)
            else:  # the same tensors, updated in place: refresh those (frozen embeddings stay)
                module = cached[1]
                stepped = cached[0][0] != steps
                pairs = zip(module.parameters(), params, cached[0][1], versions, strict=True)
                for target, source, before, now in pairs:
                    if before != now or (stepped and source.requires_grad):
                        target.copy_(source)
        self._inference_copies["bf16"] = ((steps, versions), module)
        return module

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, language: str | None = None
    ) -> torch.Tensor:
        """Pooled embeddings of one batch of texts in `language` (None = English), through the embedding
        module if the encoder has one."""
        pooled = mean_pool(self.token_states(input_ids, attention_mask), attention_mask)
        if self.post_pooling is None:
            return pooled
        return self.post_pooling(pooled, language)

    @torch.inference_mode()
    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        normalize: bool = True,
        language: str | None = None,
    ) -> np.ndarray:
        """Embeddings of `texts` in `language` (None = English; float32, L2-normalised by default), batched
        by length to avoid padding."""
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
                emb = self(**batch, language=language).float()
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
        and the embedding module, if any, under `alignment/`."""
        from safetensors.torch import save_file

        state = {n: t.contiguous().cpu() for n, t in self.trainable_state().items()}
        save_file(
            state, str(directory / TRAINED_WEIGHTS), metadata={k: str(v) for k, v in (metadata or {}).items()}
        )
        if self.post_pooling is not None:
            save_module(self.post_pooling, directory / ALIGNMENT_DIR)

    def load_trained(self, directory: Path) -> None:
        from safetensors.torch import load_file

        self.load_state(load_file(str(directory / TRAINED_WEIGHTS), device=str(self.device_)))
        if (directory / ALIGNMENT_DIR).is_dir():
            self.post_pooling = load_module(directory / ALIGNMENT_DIR, default_type=_LEGACY_MODULE)
