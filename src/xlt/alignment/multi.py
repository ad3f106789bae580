"""One projection per language onto a shared English space (`MultiProjection`), and the module that lets a
sentence encoder apply it after its pooling (`AlignmentModule`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xlt.alignment.learners import fit_projection
from xlt.alignment.preprocessing import DEFAULT_EPS, LANGUAGE_CODE, Array, ArrayT, Preprocessing, as_matrix
from xlt.alignment.projection import FORMAT_VERSION, Projection
from xlt.core.errors import DataError, did_you_mean
from xlt.core.io import atomic_directory, atomic_write_json
from xlt.models.modules import EmbeddingModule
from xlt.tasks.iso639 import canonical

MULTI_FORMAT = "xlt.alignment.multi_projection"
MULTI_INDEX = "index.json"


# ---------------------------------------------------------------------------------------- multilingual


@dataclass(frozen=True, eq=False)
class MultiProjection(Mapping[str, Projection]):
    """One projection per language X (keyed by language code), all onto the same target language.

    A read-only mapping language code -> `Projection`. Language codes may hold letters, digits, '-' and '_'
    (they name files on disk).
    """

    projections: Mapping[str, Projection]
    target_language: str = "en"

    def __post_init__(self) -> None:
        projections = dict(self.projections)
        for code in [*projections, self.target_language]:
            if not LANGUAGE_CODE.match(code):
                raise ValueError(f"invalid language code {code!r}: use letters, digits, '-' and '_'")
        dims = {code: projection.dim for code, projection in projections.items()}
        if len(set(dims.values())) > 1:
            raise ValueError(f"all projections must have the same dimension; got {dims}")
        object.__setattr__(self, "projections", projections)

    def __getitem__(self, language: str) -> Projection:
        try:
            return self.projections[language]
        except KeyError:
            raise KeyError(
                f"no projection for language {language!r}{did_you_mean(language, self.projections)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.projections)

    def __len__(self) -> int:
        return len(self.projections)

    @classmethod
    def fit(
        cls,
        pairs: Mapping[str, tuple[Array, Array]],
        *,
        method: str = "procrustes",
        shared_target: bool = True,
        target_language: str = "en",
        **options: Any,
    ) -> MultiProjection:
        """Fit one projection per language from its pairs (S_X, T_X) with `fit_projection(method, **options)`.

        With `shared_target` (the default) and `centre` or `whiten`, the English statistics (μ_t, A_t) are
        estimated once on all target sides stacked, so every language is mapped into the same English space
        and `transform_target` is defined; otherwise each language keeps the statistics of its own English
        side.
        """
        if not pairs:
            raise ValueError("no language pairs to fit")
        if shared_target and method == "lir" and options.get("target_preprocessing") is None:
            stacked = np.concatenate(
                [as_matrix(t, f"target embeddings of {code!r}") for code, (_, t) in pairs.items()]
            )
            options["target_preprocessing"] = Preprocessing.identity_removal(
                stacked, int(options.get("rank", 1)), name="target embeddings of all languages"
            )
        elif shared_target and options.get("target_preprocessing") is None:
            whiten = bool(options.get("whiten", False))
            centre = bool(options.get("centre", False)) or whiten
            if centre:
                stacked = np.concatenate(
                    [as_matrix(t, f"target embeddings of {code!r}") for code, (_, t) in pairs.items()]
                )
                options["target_preprocessing"] = Preprocessing.fit(
                    stacked,
                    centre=centre,
                    whiten=whiten,
                    eps=float(options.get("eps", DEFAULT_EPS)),
                    name="target embeddings of all languages",
                )
        return cls(
            {code: fit_projection(s, t, method, **options) for code, (s, t) in pairs.items()},
            target_language=target_language,
        )

    def transform_source(self, language: str, x: ArrayT) -> ArrayT:
        """Map embeddings of `language` with its projection (see `Projection.transform_source`)."""
        return self[language].transform_source(x)

    @property
    def shares_target(self) -> bool:
        """Whether every projection uses the same English pre-processing statistics."""
        projections = list(self.projections.values())
        return all(p.target.same_as(projections[0].target) for p in projections[1:])

    def transform_target(self, e: ArrayT) -> ArrayT:
        """English embeddings into the shared comparison space (ValueError unless `shares_target`)."""
        if not self.projections:
            raise ValueError("the multi-projection holds no projection")
        if not self.shares_target:
            raise ValueError(
                "the projections were fitted with language-specific English statistics; use "
                "multi[language].transform_target, or fit with shared_target=True"
            )
        return next(iter(self.projections.values())).transform_target(e)

    def save(self, directory: Path | str) -> Path:
        """Write every projection as `<language>.safetensors` plus `index.json` into `directory`, atomically.

        The directory is built under a temporary name and renamed into place, replacing an existing one.
        """
        directory = Path(directory)
        files = {code: f"{code}.safetensors" for code in self.projections}
        with atomic_directory(directory) as tmp:
            for code, projection in self.projections.items():
                projection.save(tmp / files[code])
            index = {
                "format": MULTI_FORMAT,
                "format_version": FORMAT_VERSION,
                "target_language": self.target_language,
                "projections": files,
            }
            atomic_write_json(tmp / MULTI_INDEX, index)
        return directory

    @classmethod
    def load(cls, directory: Path | str) -> MultiProjection:
        """Read a directory written by `save`; DataError if it is missing or malformed."""
        directory = Path(directory)
        index_path = directory / MULTI_INDEX
        if not index_path.is_file():
            raise DataError(f"{directory} holds no {MULTI_INDEX}", "point at a directory written by save()")
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{index_path} is not valid JSON ({exc})", "re-create it with save()") from exc
        if not isinstance(index, dict) or index.get("format") != MULTI_FORMAT:
            raise DataError(f"{index_path} is not an xlt multi-projection index", "re-create it with save()")
        if int(index.get("format_version", 0)) > FORMAT_VERSION:
            raise DataError(f"{index_path} uses a newer multi-projection format", "upgrade xlt")
        files = index.get("projections")
        if not isinstance(files, dict):
            raise DataError(f"{index_path} lists no projections", "re-create it with save()")
        projections = {}
        for code, name in files.items():
            if Path(name).name != name:
                raise DataError(f"{index_path} names a file outside its directory: {name!r}")
            projections[code] = Projection.load(directory / name)
        return cls(projections, target_language=str(index.get("target_language", "en")))


class AlignmentModule(EmbeddingModule):
    """A `MultiProjection` as the sentence encoder's module after pooling: a batch in language X goes
    through X's projection, English (and a language without a projection) into the projections' English
    space, so that every evaluation compares like with like."""

    def __init__(self, projections: MultiProjection) -> None:
        super().__init__()
        self.projections = projections

    def forward(self, embeddings: torch.Tensor, language: str | None) -> torch.Tensor:
        code = canonical(language) if language else self.projections.target_language
        if code != self.projections.target_language and code in self.projections:
            out: torch.Tensor = self.projections.transform_source(code, embeddings.float())
        else:
            out = self.projections.transform_target(embeddings.float())
        return out.to(embeddings.dtype)

    def save_files(self, directory: Path) -> None:
        self.projections.save(directory)

    @classmethod
    def load_files(cls, directory: Path) -> AlignmentModule:
        return cls(MultiProjection.load(directory))
