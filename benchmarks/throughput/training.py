"""Fine-tuning throughput: xlt's trainer against transformers.Trainer on the same pairs and settings."""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from datasets import Dataset
from rich.console import Console
from torch import nn

from .common import (
    ENCODER,
    Settings,
    TrainResult,
    Window,
    attention_of,
    compiled_forward,
    non_embedding_parameters,
    unpadded_forward,
)

DEV_LIMIT = 8  # xlt's trainer evaluates once, after the last timed step; keep that evaluation tiny
WARMUP_RATIO = 0.1  # xlt's TrainingConfig default, reproduced for the Trainer
WEIGHT_DECAY = 0.01  # xlt's TrainingConfig default, reproduced for the Trainer


class TokenCounter:
    """Counts (non-padding and padded) tokens entering a transformer and marks the end of each step."""

    def __init__(self) -> None:
        self.tokens = 0
        self.padded = 0
        self.marks: list[tuple[float, int, int]] = []

    def hook(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        mask = kwargs.get("attention_mask")
        if mask is None and len(args) > 1:
            mask = args[1]
        if mask is not None:
            self.count(mask)

    def count(self, mask: torch.Tensor) -> None:
        self.tokens += int(mask.sum())
        self.padded += int(mask.numel())

    def wrap(self, encoder: Any) -> None:
        """Count the tokens of every forward pass of xlt's `encoder` without a hook on its transformer: a
        hooked transformer is never compiled (hooks are how robust training perturbs it), so a hook would
        keep the compiled row eager."""
        token_states = encoder.token_states

        def counted(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            self.count(attention_mask)
            return token_states(input_ids, attention_mask)

        encoder.token_states = counted

    def mark(self) -> None:
        self.marks.append((time.perf_counter(), self.tokens, self.padded))

    def window(self, warmup_steps: int) -> Window:
        """The steps after step `warmup_steps`, each from the end of the previous step to its own end."""
        if len(self.marks) <= warmup_steps:
            raise RuntimeError(f"only {len(self.marks)} steps were marked, expected more than {warmup_steps}")
        timed = list(zip(self.marks[warmup_steps - 1 : -1], self.marks[warmup_steps:], strict=True))
        return Window(
            step_seconds=[b[0] - a[0] for a, b in timed],
            step_tokens=[b[1] - a[1] for a, b in timed],
            step_padded=[b[2] - a[2] for a, b in timed],
        )


class MeanPoolingBiEncoder(nn.Module):
    """The Trainer-side model: AutoModel + mean pooling; forward returns the cosine-MSE loss."""

    def __init__(self, transformer: nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)

    def forward(
        self,
        input_ids_1: torch.Tensor,
        attention_mask_1: torch.Tensor,
        input_ids_2: torch.Tensor,
        attention_mask_2: torch.Tensor,
        labels: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        first = self.embed(input_ids_1, attention_mask_1).float()
        second = self.embed(input_ids_2, attention_mask_2).float()
        cosine = nn.functional.cosine_similarity(first, second)
        return {"loss": nn.functional.mse_loss(cosine, labels.float())}


class PairCollator:
    """Tokenizes both sentences of each pair (with the encoder's prefix), padded per side."""

    def __init__(self, tokenizer: Any, prefix: str, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.max_length = max_length

    def _side(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            [self.prefix + t for t in texts],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        first = self._side([r["sentence1"] for r in rows])
        second = self._side([r["sentence2"] for r in rows])
        return {
            "input_ids_1": first["input_ids"],
            "attention_mask_1": first["attention_mask"],
            "input_ids_2": second["input_ids"],
            "attention_mask_2": second["attention_mask"],
            "labels": torch.tensor([r["label"] for r in rows], dtype=torch.float32),
        }


def xlt_train(
    encoder: Any,
    train: Dataset,
    dev: Dataset,
    config: Any,
    seed: int,
    on_step: Callable[[int, int, float], None],
) -> Any:
    """xlt's bi-encoder pair-regression training: the shared loop `fit` with the STS-B task kind."""
    from xlt.tasks.registry import get_task
    from xlt.training.kinds import make_kind
    from xlt.training.loop import fit

    kind = make_kind(encoder, get_task("stsb"), config)
    return fit(kind, train, dev, config, seed, on_step=on_step, stage="bench")


def run_xlt_training(
    base: Any,
    train: Dataset,
    dev: Dataset,
    settings: Settings,
    dropout: float | None,
    compiled: bool = False,
    unpadded: bool = False,
) -> tuple[Window, float]:
    """One xlt fine-tuning run; returns the timed window and the trainer's own total seconds."""
    from xlt.training.config import TrainingConfig

    encoder = copy.deepcopy(base)
    counter = TokenCounter()
    counter.wrap(encoder)
    config = TrainingConfig(
        max_steps=settings.total_steps,
        train_limit=settings.train_pairs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        weight_decay=WEIGHT_DECAY,
        warmup_ratio=WARMUP_RATIO,
        max_length=settings.max_length,
        freeze_embeddings=True,
        dropout=dropout,
        loss="cosine_mse",
        precision=settings.train_precision,
        evaluations=1,
        dev_limit=DEV_LIMIT,
    )

    def on_step(step: int, total: int, loss: float) -> None:
        counter.mark()

    with compiled_forward(compiled), unpadded_forward(unpadded):
        report = xlt_train(encoder, train, dev, config, settings.seed, on_step)
    if report.steps != settings.total_steps:
        raise RuntimeError(f"xlt ran {report.steps} steps, expected {settings.total_steps}")
    return counter.window(settings.warmup_steps), report.seconds


def with_lengths(train: Dataset, tokenizer: Any, prefix: str, max_length: int) -> Dataset:
    """The pairs with a `length` column (tokens of both sides), what `group_by_length` sorts by."""

    def lengths(batch: dict[str, list[Any]]) -> dict[str, list[int]]:
        sides = [
            tokenizer([prefix + t for t in batch[column]], truncation=True, max_length=max_length)
            for column in ("sentence1", "sentence2")
        ]
        return {"length": [len(a) + len(b) for a, b in zip(*(s["input_ids"] for s in sides), strict=True)]}

    return train.map(lengths, batched=True)


def _length_grouping(on: bool) -> dict[str, Any]:
    """The TrainingArguments that group batches by length: `train_sampling_strategy` in transformers 5,
    `group_by_length` before."""
    import inspect

    from transformers import TrainingArguments

    if "train_sampling_strategy" in inspect.signature(TrainingArguments.__init__).parameters:
        return {"train_sampling_strategy": "group_by_length" if on else "random"}
    return {"group_by_length": on}


def run_hf_training(
    base_model: Any,
    tokenizer: Any,
    train: Dataset,
    settings: Settings,
    prefix: str,
    *,
    fair: bool,
    dropout: float | None = None,
) -> Window:
    """One transformers.Trainer run on the same pairs and hyper-parameters. `fair`: configured for speed as
    a practitioner would on this data, batches grouped by length (`group_by_length`, as xlt buckets them);
    else random batches (the Trainer's default). `dropout` replaces the model's rate (0: torch's dropout
    returns its input unchanged, as xlt's eval-mode training computes no masks)."""
    from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments

    transformer = copy.deepcopy(base_model)
    if dropout is not None:
        for module in transformer.modules():
            if isinstance(module, nn.Dropout):
                module.p = dropout
    transformer.get_input_embeddings().weight.requires_grad_(False)
    model = MeanPoolingBiEncoder(transformer)
    counter = TokenCounter()
    handle = transformer.register_forward_pre_hook(counter.hook, with_kwargs=True)

    class MarkSteps(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            counter.mark()

    with tempfile.TemporaryDirectory(prefix="xlt-bench-") as output_dir:
        args = TrainingArguments(
            output_dir=output_dir,
            per_device_train_batch_size=settings.batch_size,
            max_steps=settings.total_steps,
            learning_rate=settings.learning_rate,
            weight_decay=WEIGHT_DECAY,
            warmup_steps=int(settings.total_steps * WARMUP_RATIO),
            lr_scheduler_type="linear",
            max_grad_norm=1.0,
            optim="adamw_torch_fused",
            bf16=settings.train_precision == "bf16",
            use_cpu=True,
            seed=settings.seed,
            dataloader_num_workers=0,
            dataloader_pin_memory=False,
            remove_unused_columns=False,
            report_to="none",
            save_strategy="no",
            logging_strategy="no",
            eval_strategy="no",
            disable_tqdm=True,
            length_column_name="length",
            **_length_grouping(fair),
        )
        pairs = train.select(range(min(settings.train_pairs, len(train))))
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=with_lengths(pairs, tokenizer, prefix, settings.max_length) if fair else pairs,
            data_collator=PairCollator(tokenizer, prefix, settings.max_length),
            callbacks=[MarkSteps()],
        )
        trainer.remove_callback(PrinterCallback)  # no end-of-training metrics dict
        trainer.train()
    handle.remove()
    torch.set_num_threads(settings.threads)  # in case the Trainer or accelerate touched it
    return counter.window(settings.warmup_steps)


@dataclass(frozen=True)
class Recipe:
    """How one benchmark row trains: every setting it differs in, as data, so no row is told apart by the
    spelling of its key."""

    name: str  # the row's family in the JSON: "xlt", or the Trainer row it is
    runner: str
    trainer: bool  # transformers.Trainer; else xlt's `fit`
    dropout: float | None = None  # None: the model's own rate (0.1)
    compiled: bool = False  # xlt: torch.compile'd forward passes
    unpadded: bool = False  # xlt, eager: forward passes that skip the padding
    grouped: bool = True  # Trainer: batches grouped by length; else random batches and default attention
    same_dropout_reference: str | None = None  # key of the Trainer row with the same dropout

    @property
    def dropout_label(self) -> str:
        if self.dropout is None:
            return "0.1 (model)"
        if self.dropout == 0:
            return "0 (p=0)" if self.trainer else "0 (eval mode)"
        return f"{self.dropout:g}"


def recipes(with_compiled: bool) -> dict[str, Recipe]:
    """The rows, in the order they run each repeat. Every xlt row is also compared with the fair Trainer
    at its own dropout: xlt's presets train with dropout 0, which a Trainer can do too (p=0)."""
    rows = {
        "xlt_default": Recipe("xlt", "xlt fit", trainer=False, same_dropout_reference="hf"),
        "xlt_nodrop": Recipe(
            "xlt", "xlt fit", trainer=False, dropout=0.0, same_dropout_reference="hf_nodrop"
        ),
        "hf": Recipe("hf", "HF Trainer, group_by_length", trainer=True),
        "hf_nodrop": Recipe("hf_nodrop", "HF Trainer, group_by_length", trainer=True, dropout=0.0),
        "hf_plain": Recipe("hf_plain", "HF Trainer, random batches", trainer=True, grouped=False),
        # dropout 0, eager, skipping the padding (compiled passes do by default): what that gives eager
        "xlt_unpadded": Recipe(
            "xlt_unpadded",
            "xlt fit, unpadded forward",
            trainer=False,
            dropout=0.0,
            unpadded=True,
            same_dropout_reference="hf_nodrop",
        ),
    }
    if with_compiled:  # compiles at its first warm-up step, outside the timed window
        rows["xlt_compiled"] = Recipe(
            "xlt_compiled",
            "xlt fit, compiled",
            trainer=False,
            dropout=0.0,
            compiled=True,
            same_dropout_reference="hf_nodrop",
        )
        rows["xlt_compiled_dropout"] = Recipe(
            "xlt_compiled_dropout",
            "xlt fit, compiled",
            trainer=False,
            compiled=True,
            same_dropout_reference="hf",
        )
    return rows


def bench_training(settings: Settings, console: Console) -> tuple[list[TrainResult], int]:
    from transformers import AutoModel, AutoTokenizer

    from xlt.core.settings import resolve_data_dir
    from xlt.models.encoders import prepare
    from xlt.models.sentence import SentenceEncoder
    from xlt.tasks.registry import get_task

    data_dir = resolve_data_dir()
    task = get_task("stsb")
    train = task.load(data_dir, "train", "en")
    dev = task.load(data_dir, "dev", "en")
    path = str(prepare(ENCODER))
    base = SentenceEncoder(ENCODER)
    # the fair Trainer uses xlt's attention implementation; the plain one transformers' default (SDPA),
    # or the same with --match-attention
    same = {"attn_implementation": attention_of(base.transformer)}
    hf_model = AutoModel.from_pretrained(path, add_pooling_layer=False, **same)
    plain_kwargs: dict[str, Any] = same if settings.match_attention else {}
    hf_plain_model = AutoModel.from_pretrained(path, add_pooling_layer=False, **plain_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(path)
    n_params = non_embedding_parameters(base.transformer)

    rows = recipes(settings.compile)

    def attention(recipe: Recipe) -> str:
        if not recipe.trainer:
            return attention_of(base.transformer)
        return attention_of(hf_model if recipe.grouped else hf_plain_model)

    results = {
        key: TrainResult(
            r.name, r.runner, r.dropout_label, attention(r), same_dropout_reference=r.same_dropout_reference
        )
        for key, r in rows.items()
    }
    for repeat in range(settings.repeats):
        for key, recipe in rows.items():
            if recipe.trainer:
                window = run_hf_training(
                    hf_model if recipe.grouped else hf_plain_model,
                    tokenizer,
                    train,
                    settings,
                    base.info.prefix,
                    fair=recipe.grouped,
                    dropout=recipe.dropout,
                )
                extra = ""
            else:
                window, reported = run_xlt_training(
                    base,
                    train,
                    dev,
                    settings,
                    recipe.dropout,
                    compiled=recipe.compiled,
                    unpadded=recipe.unpadded,
                )
                extra = f" (xlt's own timer, incl. warm-up steps and dev eval: {reported:.1f}s)"
            results[key].windows.append(window)
            console.print(
                f"  train {repeat + 1}/{settings.repeats} {key:12s} {window.tokens_per_second:8.0f} tok/s "
                f"over {len(window.step_seconds)} steps, {window.seconds:.1f}s{extra}"
            )
    return list(results.values()), n_params
