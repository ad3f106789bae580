"""Modules a sentence encoder applies to its pooled embeddings, composed like sentence-transformers composes
Transformer, Pooling and Dense: the encoder holds them, calls them in `forward` with the language of the
texts, and saves each in its own directory with a `module.json` naming its class.

A module here never reaches into the encoder's state: the language of a batch is an argument of `forward`,
not something switched on the encoder. Classes are found again by the dotted name in `module.json`, so this
layer never imports the packages that define modules (alignment projections live in `xlt.alignment`).
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from pathlib import Path

import torch
from torch import nn

from xlt.core.errors import DataError
from xlt.core.io import atomic_write_json

MODULE_CONFIG = "module.json"


class EmbeddingModule(nn.Module, ABC):
    """Maps pooled sentence embeddings (batch, dim) of texts in `language` (None = English) to new ones."""

    @abstractmethod
    def forward(self, embeddings: torch.Tensor, language: str | None) -> torch.Tensor:
        """The embeddings of one batch, all of one language."""

    @abstractmethod
    def save_files(self, directory: Path) -> None:
        """Write the module's own files into `directory` (replacing it atomically where it exists)."""

    @classmethod
    @abstractmethod
    def load_files(cls, directory: Path) -> EmbeddingModule:
        """Read what `save_files` wrote."""


def dotted_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def save_module(module: EmbeddingModule, directory: Path) -> None:
    """The module's files plus `module.json` (its class), so `load_module` can rebuild it."""
    module.save_files(directory)
    atomic_write_json(directory / MODULE_CONFIG, {"type": dotted_name(type(module))})


def load_module(directory: Path, default_type: str | None = None) -> EmbeddingModule:
    """The module saved in `directory`; `default_type` names the class of directories written before
    `module.json` existed."""
    config_path = directory / MODULE_CONFIG
    if config_path.is_file():
        try:
            type_name = str(json.loads(config_path.read_text(encoding="utf-8"))["type"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(
                f"{config_path} is not a module description ({exc!r})", "re-create the stage"
            ) from exc
    elif default_type is not None:
        type_name = default_type
    else:
        raise DataError(f"{directory} holds no {MODULE_CONFIG}", "re-create the stage that wrote it")
    module_name, _, class_name = type_name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise DataError(
            f"{config_path} names module class '{type_name}', which cannot be imported ({exc})",
            "install the package that defines it, or re-create the stage",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, EmbeddingModule)):
        raise DataError(f"{config_path} names '{type_name}', which is not an embedding module")
    return cls.load_files(directory)
