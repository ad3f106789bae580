"""Every similarity estimator by name: the ones that need only the data and the base encoder, and the
ones that need a study's trained stages."""

from __future__ import annotations

from collections.abc import Sequence

from xlt.core.errors import ConfigError, did_you_mean
from xlt.similarity.estimators import ESTIMATORS as BASE_ESTIMATORS
from xlt.similarity.estimators import Estimator
from xlt.similarity.trained import TRAINED_ESTIMATORS

ESTIMATORS: dict[str, Estimator] = {**BASE_ESTIMATORS, **TRAINED_ESTIMATORS}


def get_estimators(names: Sequence[str] | None) -> list[Estimator]:
    if names is None:
        return list(ESTIMATORS.values())
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown:
        raise ConfigError(
            f"unknown similarity estimator '{unknown[0]}'{did_you_mean(unknown[0], ESTIMATORS)}",
            f"choose from: {', '.join(ESTIMATORS)}",
        )
    return [ESTIMATORS[n] for n in names]
