"""One module per task type: its head, loss, batching, prediction and main metric."""

from __future__ import annotations

from xlt.core.errors import ConfigError
from xlt.data.schema import TaskType
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec
from xlt.training.config import TrainingConfig
from xlt.training.kinds.base import TaskKind


def make_kind(encoder: SentenceEncoder, task: TaskSpec, config: TrainingConfig) -> TaskKind:
    """The task-type implementation for `task`, with a fresh head on `encoder`."""
    from xlt.training.kinds.classification import Classification, CrossPairRegression
    from xlt.training.kinds.multiple_choice import MultipleChoice
    from xlt.training.kinds.pair_regression import PairRegression
    from xlt.training.kinds.qa import ExtractiveQA
    from xlt.training.kinds.tagging import TokenTagging

    if task.type == TaskType.PAIR_REGRESSION:
        return (
            CrossPairRegression(encoder, task)
            if config.pair_encoder == "cross"
            else PairRegression(encoder, task, config.loss)
        )
    if task.type == TaskType.TOKEN_TAGGING:
        return TokenTagging(encoder, task, config.word_labels)
    kinds: dict[TaskType, type[TaskKind]] = {
        TaskType.PAIR_CLASSIFICATION: Classification,
        TaskType.SINGLE_CLASSIFICATION: Classification,
        TaskType.MULTIPLE_CHOICE: MultipleChoice,
        TaskType.EXTRACTIVE_QA: ExtractiveQA,
    }
    if task.type not in kinds:
        raise ConfigError(
            f"task '{task.name}' ({task.type.value}) has nothing to train", "use it as a target only"
        )
    return kinds[task.type](encoder, task)
