"""Pydantic validation errors as one ConfigError line, so every config file reports problems alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from xlt.core.errors import ConfigError, did_you_mean


def field_names(model: type[BaseModel]) -> set[str]:
    """Every key a model accepts, nested models included: the candidates for a did-you-mean."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        annotation = info.annotation
        for candidate in _annotation_types(annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                names |= field_names(candidate)
    return names


def _annotation_types(annotation: object) -> list[object]:
    """The annotation and the types nested in it (Optional, lists and dicts of models)."""
    found = [annotation]
    for argument in getattr(annotation, "__args__", ()):
        found.extend(_annotation_types(argument))
    return found


def _model_at(model: type[BaseModel], path: tuple[object, ...]) -> type[BaseModel] | None:
    """The (nested) model that holds the keys at `path` (list indices and dict keys are stepped over)."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return None
        if not isinstance(part, str) or part not in current.model_fields:
            continue
        annotation = current.model_fields[part].annotation
        nested = [
            t for t in _annotation_types(annotation) if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        current = nested[0] if nested else None
    return current


def _candidates(model: type[BaseModel], loc: tuple[object, ...]) -> set[str]:
    """The keys accepted where an unknown key was found; every nested key if that place is unclear."""
    holder = _model_at(model, loc[:-1])
    return set(holder.model_fields) if holder is not None else field_names(model)


def validation_error(exc: ValidationError, source: str, model: type[BaseModel], fix: str) -> ConfigError:
    """All problems of a config in one line each, joined; unknown keys get a did-you-mean."""
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            key = str(error["loc"][-1])
            # the keys of the place the key was found first, then every nested key of the model
            hint = did_you_mean(key, _candidates(model, tuple(error["loc"])) - {key})
            hint = hint or did_you_mean(key, field_names(model) - {key})
            problems.append(f"unknown key '{location}'{hint}")
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{location}: {message}" if location else message)
    return ConfigError(f"{source}: " + "; ".join(problems), fix)


def parse_yaml_mapping(text: str, source: Path, kind: str, example: str) -> dict[str, Any]:
    """A YAML document that must be a mapping; syntax errors name the file and line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else str(source)
        raise ConfigError(
            f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})", "fix the YAML syntax"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a {kind} file must be a mapping of settings", f"see {example}")
    return data
