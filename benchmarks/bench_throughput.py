"""Throughput of xlt against the plain Hugging Face stack, measured in one run on this machine.

1. Fine-tuning: xlt's trainer (`xlt.training.loop.fit` with the bi-encoder `PairRegression` kind) against a
   `transformers.Trainer` on the same encoder (me5-small), the same STS-B training pairs and the same
   hyper-parameters (bi-encoder, mean pooling, cosine-MSE loss, frozen word embeddings, linear warm-up/decay,
   fused AdamW, clip 1.0).
2. Embedding: `SentenceEncoder.encode` against a `SentenceTransformer` built from modules
   (Transformer + mean Pooling) on the same sentences, in fp32 and bf16.
3. This machine's torch.mm peak (fp32 and bf16), and every throughput above as a fraction of it, counting
   about 2 x N FLOPs per token for inference and 6 x N for training, N = non-embedding parameters.

Run `python benchmarks/bench_throughput.py --help`; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from datasets import Dataset
from rich.console import Console
from rich.table import Table
from torch import nn

TrainPrecision = Literal["bf16", "fp32"]
Encode = Callable[[list[str]], np.ndarray]
ENCODER = "me5-small"
DEV_LIMIT = 8  # xlt's trainer evaluates once, after the last timed step; keep that evaluation tiny
WARMUP_RATIO = 0.1  # xlt's TrainingConfig default, reproduced for the Trainer
WEIGHT_DECAY = 0.01  # xlt's TrainingConfig default, reproduced for the Trainer
WARMUP_SENTENCES = 256  # untimed embedding warm-up call, spread over the sentences


@dataclass(frozen=True)
class Settings:
    steps: int
    warmup_steps: int
    repeats: int
    sentences: int
    embed_batch_size: int
    embed_chunks: int
    embed_passes: int
    batch_size: int
    learning_rate: float
    max_length: int
    train_precision: TrainPrecision
    matmul_size: int
    threads: int
    seed: int
    languages: tuple[str, ...]
    match_attention: bool

    @property
    def total_steps(self) -> int:
        return self.warmup_steps + self.steps

    @property
    def train_pairs(self) -> int:
        """Exactly one epoch of `total_steps` full batches: both trainers see the same pairs once."""
        return self.total_steps * self.batch_size


@dataclass
class Window:
    """The timed steps of one training run (after the warm-up steps)."""

    step_seconds: list[float]
    step_tokens: list[int]
    step_padded: list[int]

    @property
    def seconds(self) -> float:
        return sum(self.step_seconds)

    @property
    def tokens(self) -> int:
        return sum(self.step_tokens)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def padding_fraction(self) -> float:
        return 1.0 - self.tokens / max(1, sum(self.step_padded))


@dataclass
class TrainResult:
    name: str
    runner: str
    dropout: str
    attention: str
    windows: list[Window] = field(default_factory=list)

    @property
    def same_batches(self) -> bool:
        return all(w.step_tokens == self.windows[0].step_tokens for w in self.windows)

    @property
    def step_seconds(self) -> list[float]:
        """Each step's fastest time over the repeats (the repeats replay the same batches: same seed).

        On a shared machine other processes only ever add time, so the minimum is the cleanest estimate."""
        if not self.same_batches:  # cannot pair steps: take the fastest run
            return max(self.windows, key=lambda w: w.tokens_per_second).step_seconds
        return [min(times) for times in zip(*(w.step_seconds for w in self.windows), strict=True)]

    @property
    def tokens_per_second(self) -> float:
        window = self.windows[0]
        return window.tokens / sum(self.step_seconds) if self.same_batches else max(self.run_rates)

    @property
    def run_rates(self) -> list[float]:
        """tokens/s of each run, plain wall clock over its timed steps."""
        return [w.tokens_per_second for w in self.windows]


@dataclass
class EmbedResult:
    name: str
    runner: str
    precision: str
    how: str
    attention: str
    chunk_sizes: list[int]
    chunk_tokens: list[int]
    chunk_seconds: list[list[float]] = field(default_factory=list)  # [chunk][pass]
    agreement: float | None = None

    @property
    def best_seconds(self) -> list[float]:
        """Each chunk's fastest time over the passes."""
        return [min(times) for times in self.chunk_seconds]

    @property
    def sentences_per_second(self) -> float:
        """Median over the chunks: robust to another process taking the CPU during a few of them."""
        return statistics.median(n / t for n, t in zip(self.chunk_sizes, self.best_seconds, strict=True))

    @property
    def tokens_per_second(self) -> float:
        return statistics.median(n / t for n, t in zip(self.chunk_tokens, self.best_seconds, strict=True))

    @property
    def total_sentences_per_second(self) -> float:
        """Plain: all sentences over the summed chunk times."""
        return sum(self.chunk_sizes) / sum(self.best_seconds)

    def ratio_to(self, other: EmbedResult) -> float:
        """Speed of self over other: median over the chunks of the paired time ratio (same chunk, run back
        to back)."""
        return statistics.median(
            theirs / mine for mine, theirs in zip(self.best_seconds, other.best_seconds, strict=True)
        )


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
            self.tokens += int(mask.sum())
            self.padded += int(mask.numel())

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


def attention_of(model: nn.Module) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", "?"))


def non_embedding_parameters(model: nn.Module) -> int:
    embedding = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in embedding)


# ---------------------------------------------------------------------------------------------- peak


def matmul_gflops(dtype: torch.dtype, size: int, repeats: int) -> float:
    """Median GFLOP/s of torch.mm on size x size matrices (2 n^3 FLOPs per product)."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    out = torch.empty(size, size, dtype=dtype)
    for _ in range(3):
        torch.mm(a, b, out=out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


# ------------------------------------------------------------------------------------------ training


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
    """xlt's bi-encoder pair-regression training: the shared loop `fit` with the STS-B task kind, or the older
    `train_pair_regression` in xlt versions that had one trainer per task type."""
    try:
        from xlt.training.kinds import make_kind
        from xlt.training.loop import fit
    except ImportError:
        from xlt.training.pair_regression import train_pair_regression

        return train_pair_regression(encoder, train, dev, config, seed, on_step=on_step)
    from xlt.tasks.registry import get_task

    kind = make_kind(encoder, get_task("stsb"), config)
    return fit(kind, train, dev, config, seed, on_step=on_step, stage="bench")


def run_xlt_training(
    base: Any, train: Dataset, dev: Dataset, settings: Settings, dropout: float | None
) -> tuple[Window, float]:
    """One xlt fine-tuning run; returns the timed window and the trainer's own total seconds."""
    from xlt.training.config import TrainingConfig

    encoder = copy.deepcopy(base)
    counter = TokenCounter()
    handle = encoder.transformer.register_forward_pre_hook(counter.hook, with_kwargs=True)
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

    report = xlt_train(encoder, train, dev, config, settings.seed, on_step)
    handle.remove()
    if report.steps != settings.total_steps:
        raise RuntimeError(f"xlt ran {report.steps} steps, expected {settings.total_steps}")
    return counter.window(settings.warmup_steps), report.seconds


def run_hf_training(
    base_model: Any, tokenizer: Any, train: Dataset, settings: Settings, prefix: str
) -> Window:
    """One transformers.Trainer run on the same pairs and hyper-parameters."""
    from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments

    transformer = copy.deepcopy(base_model)
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
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train.select(range(min(settings.train_pairs, len(train)))),
            data_collator=PairCollator(tokenizer, prefix, settings.max_length),
            callbacks=[MarkSteps()],
        )
        trainer.remove_callback(PrinterCallback)  # no end-of-training metrics dict
        trainer.train()
    handle.remove()
    torch.set_num_threads(settings.threads)  # in case the Trainer or accelerate touched it
    return counter.window(settings.warmup_steps)


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
    hf_kwargs: dict[str, Any] = {"attn_implementation": "eager"} if settings.match_attention else {}
    hf_model = AutoModel.from_pretrained(path, add_pooling_layer=False, **hf_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(path)
    n_params = non_embedding_parameters(base.transformer)

    results = {
        "xlt_default": TrainResult("xlt", "xlt fit", "0.1 (model)", attention_of(base.transformer)),
        "xlt_nodrop": TrainResult("xlt", "xlt fit", "0 (eval mode)", attention_of(base.transformer)),
        "hf": TrainResult("hf", "HF Trainer", "0.1 (model)", attention_of(hf_model)),
    }
    for repeat in range(settings.repeats):
        for key in ("xlt_default", "xlt_nodrop", "hf"):
            if key == "hf":
                window = run_hf_training(hf_model, tokenizer, train, settings, base.info.prefix)
                extra = ""
            else:
                window, reported = run_xlt_training(
                    base, train, dev, settings, None if key == "xlt_default" else 0.0
                )
                extra = f" (xlt's own timer, incl. warm-up steps and dev eval: {reported:.1f}s)"
            results[key].windows.append(window)
            console.print(
                f"  train {repeat + 1}/{settings.repeats} {key:12s} {window.tokens_per_second:8.0f} tok/s "
                f"over {len(window.step_seconds)} steps, {window.seconds:.1f}s{extra}"
            )
    return list(results.values()), n_params


# ----------------------------------------------------------------------------------------- embedding


def load_sentences(settings: Settings) -> list[str]:
    """`settings.sentences` sentences from stsb-multi test, taken round-robin over the languages."""
    from xlt.core.settings import resolve_data_dir
    from xlt.tasks.registry import get_task

    data_dir = resolve_data_dir()
    task = get_task("stsb-multi")
    columns: list[list[str]] = []
    for language in settings.languages:
        ds = task.load(data_dir, "test", language)
        columns.append([s for pair in zip(ds["sentence1"], ds["sentence2"], strict=True) for s in pair])
    sentences = [s for row in zip(*columns, strict=False) for s in row]
    if len(sentences) < settings.sentences:
        raise ValueError(f"only {len(sentences)} sentences are available")
    return sentences[: settings.sentences]


def build_sentence_transformer(path: str, max_length: int, match_attention: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6 (`sentence_transformers.models` still works there, with a warning)
        modules = importlib.import_module("sentence_transformers.sentence_transformer.modules")
    except ImportError:
        modules = importlib.import_module("sentence_transformers.models")

    model_kwargs: dict[str, Any] | None = {"attn_implementation": "eager"} if match_attention else None
    transformer = modules.Transformer(path, max_seq_length=max_length, model_kwargs=model_kwargs)
    pooling = modules.Pooling(int(transformer.auto_model.config.hidden_size), "mean")
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


def bench_embedding(settings: Settings, console: Console) -> list[EmbedResult]:
    from xlt.models.encoders import prepare
    from xlt.models.sentence import SentenceEncoder

    texts = load_sentences(settings)
    encoder = SentenceEncoder(ENCODER)
    prefix = encoder.info.prefix  # xlt adds it itself; given to sentence-transformers with the text
    path = str(prepare(ENCODER))
    st = build_sentence_transformer(path, encoder.max_length, settings.match_attention)
    st_bf16 = copy.deepcopy(st).to(torch.bfloat16)
    bs = settings.embed_batch_size
    xlt_attn = attention_of(encoder.transformer)
    st_attn = attention_of(st[0].auto_model)

    def xlt_encode(precision: Literal["fp32", "bf16"]) -> Encode:
        return lambda batch: encoder.encode(batch, batch_size=bs, precision=precision)

    def st_encode(model: Any, autocast: bool = False) -> Encode:
        def run(batch: list[str]) -> np.ndarray:
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=autocast):
                out = model.encode(
                    [prefix + t for t in batch],
                    batch_size=bs,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            return np.asarray(out, dtype=np.float32)

        return run

    runs: list[tuple[str, str, str, str, str, Encode]] = [
        ("xlt", "xlt encode", "fp32", "fp32", xlt_attn, xlt_encode("fp32")),
        ("st", "ST encode", "fp32", "fp32", st_attn, st_encode(st)),
        ("xlt", "xlt encode", "bf16", "autocast", xlt_attn, xlt_encode("bf16")),
        ("st", "ST encode", "bf16", "bf16 weights (.to)", st_attn, st_encode(st_bf16)),
        ("st", "ST encode", "bf16", "autocast", st_attn, st_encode(st, autocast=True)),
    ]
    # untimed warm-up on a sample of every length; its output is checked against xlt's
    sample = texts[:: max(1, len(texts) // WARMUP_SENTENCES)]
    size = math.ceil(len(texts) / settings.embed_chunks)
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    chunk_tokens = [sum(encoder.token_lengths(chunk)) for chunk in chunks]
    results: list[EmbedResult] = []
    reference: dict[str, np.ndarray] = {}
    for name, runner, precision, how, attention, fn in runs:
        out = fn(sample)
        result = EmbedResult(
            name,
            runner,
            precision,
            how,
            attention,
            [len(c) for c in chunks],
            chunk_tokens,
            [[] for _ in chunks],
        )
        if name == "xlt":
            reference[precision] = out
        else:
            result.agreement = float(np.min(np.sum(out * reference[precision], axis=1)))
        results.append(result)
    # every chunk is encoded by every variant back to back, so that a disturbance hits them alike
    for repeat in range(settings.embed_passes):
        for c, chunk in enumerate(chunks):
            for result, (*_, fn) in zip(results, runs, strict=True):
                start = time.perf_counter()
                fn(chunk)
                result.chunk_seconds[c].append(time.perf_counter() - start)
        rates = ", ".join(
            f"{r.name} {r.precision} {r.how}: {len(texts) / sum(t[repeat] for t in r.chunk_seconds):.1f}"
            for r in results
        )
        console.print(f"  embed pass {repeat + 1}/{settings.embed_passes} (sentences/s) {rates}")
    return results


# -------------------------------------------------------------------------------------------- report


def environment() -> dict[str, Any]:
    import sentence_transformers
    import transformers

    from xlt.core.settings import git_commit
    from xlt.models.precision import cpu_has_fast_bf16

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_fast_bf16": cpu_has_fast_bf16(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "xlt_commit": git_commit(),
        "load_average_at_start": os.getloadavg()[0],
    }


def add_columns(table: Table, left: Sequence[str], right: Sequence[str]) -> None:
    for column in left:
        table.add_column(column)
    for column in right:
        table.add_column(column, justify="right")


def print_report(
    console: Console,
    settings: Settings,
    env: dict[str, Any],
    peaks: dict[str, float],
    train_results: list[TrainResult],
    embed_results: list[EmbedResult],
    n_params: int,
) -> dict[str, Any]:
    """Print the tables and return the figures for --json."""
    figures: dict[str, Any] = {"environment": env, "settings": asdict(settings), "peak_gflops": peaks}
    figures["non_embedding_parameters"] = n_params

    peak_table = Table(
        title=f"torch.mm peak, {settings.matmul_size}x{settings.matmul_size}, {settings.threads} threads"
    )
    peak_table.add_column("dtype")
    peak_table.add_column("GFLOP/s", justify="right")
    for dtype, gflops in peaks.items():
        peak_table.add_row(dtype, f"{gflops:.0f}")
    console.print(peak_table)

    train_peak = peaks[settings.train_precision]
    hf = next((r for r in train_results if r.name == "hf"), None)
    train_table = Table(
        title=(
            f"Fine-tuning me5-small on STS-B train: {settings.steps} timed steps after "
            f"{settings.warmup_steps} warm-up, {settings.batch_size} pairs/step, "
            f"max_length {settings.max_length}, {settings.train_precision}, {settings.repeats} run(s) each"
        )
    )
    add_columns(
        train_table,
        ("runner", "dropout", "attention"),
        ("tokens/s", "per run", "s/step", "padding", "% peak", "xlt/HF"),
    )
    figures["training"] = []
    for result in train_results:
        tps = result.tokens_per_second
        ratio = tps / hf.tokens_per_second if hf is not None and result.name != "hf" else None
        per_step = sum(result.step_seconds) / settings.steps
        padding = statistics.median(w.padding_fraction for w in result.windows)
        fraction = tps * 6 * n_params / 1e9 / train_peak
        train_table.add_row(
            result.runner,
            result.dropout,
            result.attention,
            f"{tps:.0f}",
            " / ".join(f"{rate:.0f}" for rate in result.run_rates),
            f"{per_step:.3f}",
            f"{padding:.0%}",
            f"{fraction:.1%}",
            f"{ratio:.2f}x" if ratio is not None else "1 (ref)",
        )
        figures["training"].append(
            {
                "runner": result.runner,
                "dropout": result.dropout,
                "attention": result.attention,
                "tokens_per_second": tps,
                "tokens_per_second_per_run": result.run_rates,
                "same_batches_in_every_run": result.same_batches,
                "seconds_per_step": per_step,
                "padding_fraction": padding,
                "fraction_of_peak": fraction,
                "ratio_vs_hf_trainer": ratio,
                "runs": [asdict(w) for w in result.windows],
            }
        )
    console.print(train_table)

    n_sentences = sum(embed_results[0].chunk_sizes) if embed_results else 0
    embed_table = Table(
        title=(
            f"Embedding {n_sentences} stsb-multi test sentences ({', '.join(settings.languages)}), "
            f"batch {settings.embed_batch_size}, {settings.embed_chunks} chunks x "
            f"{settings.embed_passes} pass(es)"
        )
    )
    add_columns(
        embed_table,
        ("runner", "precision", "how", "attention"),
        ("sent/s", "tokens/s", "sent/s (total)", "% peak", "min cos", "xlt/ST"),
    )
    xlt_by_precision = {r.precision: r for r in embed_results if r.name == "xlt"}
    figures["embedding"] = []
    for embed in embed_results:
        fraction = embed.tokens_per_second * 2 * n_params / 1e9 / peaks[embed.precision]
        ratio = xlt_by_precision[embed.precision].ratio_to(embed) if embed.name != "xlt" else None
        embed_table.add_row(
            embed.runner,
            embed.precision,
            embed.how,
            embed.attention,
            f"{embed.sentences_per_second:.1f}",
            f"{embed.tokens_per_second:.0f}",
            f"{embed.total_sentences_per_second:.1f}",
            f"{fraction:.1%}",
            f"{embed.agreement:.4f}" if embed.agreement is not None else "",
            f"{ratio:.2f}x" if ratio is not None else "",
        )
        figures["embedding"].append(
            {
                "runner": embed.runner,
                "precision": embed.precision,
                "how": embed.how,
                "attention": embed.attention,
                "chunk_sentences": embed.chunk_sizes,
                "chunk_tokens": embed.chunk_tokens,
                "chunk_seconds": embed.chunk_seconds,
                "sentences_per_second": embed.sentences_per_second,
                "tokens_per_second": embed.tokens_per_second,
                "total_sentences_per_second": embed.total_sentences_per_second,
                "fraction_of_peak": fraction,
                "min_cosine_vs_xlt": embed.agreement,
                "ratio_xlt_over_st": ratio,
            }
        )
    console.print(embed_table)
    console.print(
        f"% peak: tokens/s x FLOPs/token / torch.mm peak of the same dtype; FLOPs/token ~ 2N (inference), "
        f"~ 6N (training), N = {n_params / 1e6:.1f}M non-embedding parameters (attention-score FLOPs, "
        "pooling and loss ignored; frozen embeddings get no gradient, the rest of the backward is unchanged)."
    )
    console.print(
        "Training: each step is timed from the end of the previous step to its own end (callbacks on "
        "both sides): tokenization/collation, forward, backward, grad clipping, optimizer and scheduler; "
        "model copy, optimizer setup, warm-up steps and xlt's dev evaluation are outside. tokens/s = "
        "non-padding tokens entering the transformer / sum over steps of each step's fastest time over the "
        "runs (same seed, same batches); 'per run' = plain wall clock of each run. xlt buckets batches by "
        "length and encodes both sides in one forward; the Trainer samples randomly and runs one forward per "
        "side (hence 'padding')."
    )
    console.print(
        "Embedding: the whole encode call (tokenization, sorting, forward, pooling, normalisation, numpy) "
        "per chunk, every variant back to back on the same chunk; sent/s and tokens/s = median over chunks; "
        "xlt/ST = median over chunks of the paired time ratio; 'sent/s (total)' = all sentences / summed "
        "chunk times; min cos = lowest cosine between ST's and xlt's embedding of a warm-up sentence."
    )
    return figures


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=40, help="timed training steps (default 40)")
    parser.add_argument("--warmup-steps", type=int, default=5, help="untimed steps before them (default 5)")
    parser.add_argument("--sentences", type=int, default=2000, help="sentences to embed (default 2000)")
    parser.add_argument(
        "--repeats", type=int, default=2, help="training runs per variant; each step's fastest time counts"
    )
    parser.add_argument("--embed-batch-size", type=int, default=64)
    parser.add_argument(
        "--embed-chunks", type=int, default=8, help="the sentences are timed in this many chunks (default 8)"
    )
    parser.add_argument(
        "--embed-passes", type=int, default=1, help="timed passes over the sentences (default 1)"
    )
    parser.add_argument(
        "--train-precision",
        choices=("bf16", "fp32"),
        default=None,
        help="default: bf16 autocast where the CPU has fast bf16 (AMX / AVX512-BF16), else fp32",
    )
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument(
        "--match-attention",
        action="store_true",
        help="load the Trainer's and sentence-transformers' models with eager attention like xlt "
        "(default: their own default, SDPA)",
    )
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also save the figures here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from transformers.utils import logging as hf_logging

    from xlt.models.precision import cpu_has_fast_bf16

    hf_logging.set_verbosity_error()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    precision: TrainPrecision = args.train_precision or ("bf16" if cpu_has_fast_bf16() else "fp32")
    settings = Settings(
        steps=3 if args.quick else args.steps,
        warmup_steps=1 if args.quick else args.warmup_steps,
        repeats=1 if args.quick else args.repeats,
        sentences=64 if args.quick else args.sentences,
        embed_batch_size=args.embed_batch_size,
        embed_chunks=4 if args.quick else args.embed_chunks,
        embed_passes=1 if args.quick else args.embed_passes,
        batch_size=16,
        learning_rate=2e-5,
        max_length=64,
        train_precision=precision,
        matmul_size=512 if args.quick else args.matmul_size,
        threads=torch.get_num_threads(),
        seed=0,
        languages=("en", "de", "es", "fr", "it", "nl", "pl", "pt", "ru", "zh"),
        match_attention=args.match_attention,
    )
    counts = {
        "--steps": settings.steps,
        "--warmup-steps": settings.warmup_steps,
        "--repeats": settings.repeats,
        "--embed-chunks": settings.embed_chunks,
        "--embed-passes": settings.embed_passes,
    }
    if min(counts.values()) < 1:
        raise SystemExit(f"{', '.join(counts)} must be at least 1")

    console = Console(width=150)
    env = environment()
    console.print(
        f"{env['cpu']}, {settings.threads} torch threads, fast bf16: {env['cpu_fast_bf16']}; "
        f"torch {env['torch']}, transformers {env['transformers']}, "
        f"sentence-transformers {env['sentence_transformers']}, xlt {env['xlt_commit'][:12]}"
    )
    if env["load_average_at_start"] > 0.5:
        console.print(
            f"[yellow]warning: 1-minute load average {env['load_average_at_start']:.2f} before starting: "
            "other processes are (or were just) using the CPU, timings may be slow and noisy[/yellow]"
        )
    peaks = {
        name: matmul_gflops(dtype, settings.matmul_size, 10)
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    start = time.perf_counter()
    train_results, n_params = ([], 0) if args.skip_training else bench_training(settings, console)
    embed_results: list[EmbedResult] = []
    if not args.skip_embedding:
        embed_results = bench_embedding(settings, console)
    if not n_params:
        from xlt.models.sentence import SentenceEncoder

        n_params = non_embedding_parameters(SentenceEncoder(ENCODER).transformer)
    figures = print_report(console, settings, env, peaks, train_results, embed_results, n_params)
    figures["wall_seconds"] = time.perf_counter() - start
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        console.print(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
