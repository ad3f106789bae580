"""The forward pass of a BERT-family encoder without computing on padding.

A batch of sentences of different lengths is padded to its longest. Hugging Face's BERT runs every linear
map, layer norm and activation on the padding positions too, and throws the results away. Here the
embeddings are computed as usual, then only the real tokens (the attention mask's ones) go through the
layers' linear maps, layer norms and feed-forward blocks; attention alone needs the padded layout, so the
query, key and value rows are scattered back into it for the attention product and gathered out after.
The result equals Hugging Face's forward at the real positions (padding positions are zero here); it
uses the model's own modules and weights, so training, autocast, `load_state_dict` and `torch.compile`
work on it unchanged. It is used with compiled forward passes (where it measured fastest), or when
`XLT_UNPADDED=1`; see `enabled`.

It applies to encoders whose layers have BERT's layout (BERT, RoBERTa, XLM-R, ELECTRA-style
`encoder.layer[i].attention.self.query`, ...; me5-small is a BERT), with absolute positions and no
decoder or cross-attention; `supports` says whether a module qualifies, and others run as they are.
Measured in `benchmarks/` ("What each optimisation gave").
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from xlt.models import compiling

UNPADDED_ENV = "XLT_UNPADDED"


def enabled() -> bool:
    """`XLT_UNPADDED=1` / `0` turn it on / off; unset, it is on with compiled forward passes
    (`xlt --compile`) and off otherwise. Measured on 2 idle cores (`bench_throughput.py`, AMD EPYC):
    compiled it trained fastest (3552 tokens/s), eager it was slower than Hugging Face's forward
    (2443-2879 against 3090-3173: its gathers and scatters cost more than the padding it skips), though
    1.02-1.06x faster at one thread beside another job."""
    value = os.environ.get(UNPADDED_ENV, "").strip().lower()
    if value in ("", "auto"):
        return compiling.enabled()
    return value not in ("0", "false", "no", "off")


_LAYER_PARTS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "attention.output.LayerNorm",
    "intermediate.dense",
    "output.dense",
    "output.LayerNorm",
)


def supports(module: nn.Module) -> bool:
    """Whether `module` is an encoder this forward handles."""
    config = getattr(module, "config", None)
    encoder = getattr(module, "encoder", None)
    embeddings = getattr(module, "embeddings", None)
    if config is None or encoder is None or embeddings is None:
        return False
    if hasattr(module, "embeddings_project"):  # ELECTRA with narrower embeddings: a map we would skip
        return False
    plain = (
        not getattr(config, "is_decoder", False)
        and not getattr(config, "add_cross_attention", False)
        and getattr(config, "position_embedding_type", "absolute") in ("absolute", None)
        and not getattr(config, "chunk_size_feed_forward", 0)
    )
    return plain and _has_layout(encoder)


def _has_layout(encoder: nn.Module) -> bool:
    layers = getattr(encoder, "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
        return False
    layer = layers[0]
    for path in _LAYER_PARTS:
        try:
            layer.get_submodule(path)
        except AttributeError:
            return False
    return hasattr(layer.intermediate, "intermediate_act_fn")


def layout(attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The positions of the real tokens in the flattened batch, and the additive attention bias that hides
    the padding ([batch, 1, 1, length], float32). Data-dependent shapes, so computed before (outside) a
    compiled forward."""
    index = attention_mask.reshape(-1).nonzero().squeeze(1)
    bias = torch.zeros(attention_mask.shape[0], 1, 1, attention_mask.shape[1], device=attention_mask.device)
    return index, bias.masked_fill(~attention_mask.bool()[:, None, None, :], torch.finfo(torch.float32).min)


def forward(module: Any, input_ids: torch.Tensor, index: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The encoder's last hidden states, [batch, length, hidden], zero at padding positions; `index` and
    `bias` as `layout` gives them."""
    batch, length = input_ids.shape
    hidden = module.embeddings(input_ids=input_ids)
    width = hidden.shape[-1]
    states = hidden.reshape(batch * length, width).index_select(0, index)
    for layer in module.encoder.layer:
        states = _layer(layer, states, index, bias, batch, length)
    out = states.new_zeros(batch * length, width)
    return out.index_copy(0, index, states).reshape(batch, length, width)


def last_hidden_state(
    module: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """`forward` with the layout of `attention_mask`."""
    return forward(module, input_ids, *layout(attention_mask))


def _layer(
    layer: Any,  # a BERT layer (`supports`): its submodules are read by name
    states: torch.Tensor,
    index: torch.Tensor,
    bias: torch.Tensor,
    batch: int,
    length: int,
) -> torch.Tensor:
    attention = layer.attention.self
    heads = int(attention.num_attention_heads)
    size = int(attention.attention_head_size)
    query = attention.query(states)
    key = attention.key(states)
    value = attention.value(states)
    qkv = torch.cat((query, key, value), dim=-1)
    qkv = qkv.new_zeros(batch * length, qkv.shape[-1]).index_copy(0, index, qkv)
    # [3, batch, heads, length, size]
    qkv = qkv.reshape(batch, length, 3, heads, size).permute(2, 0, 3, 1, 4)
    # eager attention: SDPA measured 2x slower here on CPU, in this forward as in Hugging Face's
    scores = torch.matmul(qkv[0], qkv[1].transpose(-1, -2)) * (1.0 / math.sqrt(size))
    scores = scores + bias.to(scores.dtype)
    probs = F.softmax(scores, dim=-1)
    if attention.training and attention.dropout.p > 0:
        probs = attention.dropout(probs)
    context = torch.matmul(probs, qkv[2]).transpose(1, 2).reshape(batch * length, heads * size)
    context = context.index_select(0, index)
    output = layer.attention.output
    attended = output.LayerNorm(output.dropout(output.dense(context)) + states)
    inner = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(attended))
    final = layer.output
    result: torch.Tensor = final.LayerNorm(final.dropout(final.dense(inner)) + attended)
    return result
