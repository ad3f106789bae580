"""The benchmark's report: the environment, the printed tables and the figures saved with --json."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from .common import EmbedResult, Settings, TrainResult


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
        title=(
            f"torch.mm peak, {settings.matmul_size}x{settings.matmul_size}, and at me5-small's layer shapes "
            f"({settings.batch_size * settings.max_length} tokens), {settings.threads} threads"
        )
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
        ("tokens/s", "per run", "s/step", "padding", "% peak", "% shape peak", "vs fair HF", "same dropout"),
    )
    shape_peak = peaks.get(f"{settings.train_precision} at model shapes")
    figures["training"] = []
    for result in train_results:
        tps = result.tokens_per_second
        ratio = tps / hf.tokens_per_second if hf is not None and result.name != "hf" else None
        same = next((r for r in train_results if r.name == result.same_dropout_reference), None)
        same_ratio = tps / same.tokens_per_second if same is not None else None
        per_step = sum(result.step_seconds) / settings.steps
        padding = statistics.median(w.padding_fraction for w in result.windows)
        fraction = tps * 6 * n_params / 1e9 / train_peak
        shape_fraction = tps * 6 * n_params / 1e9 / shape_peak if shape_peak else None
        train_table.add_row(
            result.runner,
            result.dropout,
            result.attention,
            f"{tps:.0f}",
            " / ".join(f"{rate:.0f}" for rate in result.run_rates),
            f"{per_step:.3f}",
            f"{padding:.0%}",
            f"{fraction:.1%}",
            f"{shape_fraction:.1%}" if shape_fraction is not None else "",
            f"{ratio:.2f}x" if ratio is not None else "1 (ref)",
            f"{same_ratio:.2f}x" if same_ratio is not None else "",
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
                "fraction_of_shape_peak": shape_fraction,
                "ratio_vs_hf_trainer": ratio,
                "ratio_vs_hf_trainer_same_dropout": same_ratio,
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
    compiled_by_precision = {r.precision: r for r in embed_results if r.name == "xlt_compiled"}
    if compiled_by_precision:
        embed_table.add_column("compiled/ST", justify="right")
    figures["embedding"] = []
    for embed in embed_results:
        fraction = embed.tokens_per_second * 2 * n_params / 1e9 / peaks[embed.precision]
        # xlt over ST on ST's rows (and over xlt's unpadded forward on its row); on the compiled row,
        # compiled over eager xlt
        ratio = xlt_by_precision[embed.precision].ratio_to(embed) if embed.name != "xlt" else None
        compiled = compiled_by_precision.get(embed.precision)
        compiled_ratio = compiled.ratio_to(embed) if compiled is not None and embed.name == "st" else None
        if embed.name == "xlt_compiled":
            ratio = embed.ratio_to(xlt_by_precision[embed.precision])
        extra = [f"{compiled_ratio:.2f}x" if compiled_ratio is not None else ""]
        if not compiled_by_precision:
            extra = []
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
            *extra,
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
                "ratio_xlt_over_st": ratio if embed.name == "st" else None,
                "ratio_compiled_over_st": compiled_ratio,
                "ratio_compiled_over_eager_xlt": ratio if embed.name == "xlt_compiled" else None,
                "ratio_padded_over_unpadded_xlt": ratio if embed.name == "xlt_unpadded" else None,
            }
        )
    console.print(embed_table)
    console.print(
        f"% peak: tokens/s x FLOPs/token / torch.mm peak of the same dtype; FLOPs/token ~ 2N (inference), "
        f"~ 6N (training), N = {n_params / 1e6:.1f}M non-embedding parameters (attention-score FLOPs, "
        "pooling and loss ignored; frozen embeddings get no gradient, the rest of the backward is unchanged)."
        " % shape peak: the same against torch.mm on a layer's own products (forward, input and weight "
        "gradients of its 384x384 and 384x1536 maps on one batch of tokens), the ceiling at this width."
    )
    console.print(
        "Training: each step is timed from the end of the previous step to its own end (callbacks on "
        "both sides): tokenization/collation, forward, backward, grad clipping, optimizer and scheduler; "
        "model copy, optimizer setup, warm-up steps and xlt's dev evaluation are outside. tokens/s = "
        "non-padding tokens entering the transformer / sum over steps of each step's fastest time over the "
        "runs (same seed, same batches); 'per run' = plain wall clock of each run. xlt buckets batches by "
        "length and encodes both sides in one forward; the reference Trainer groups batches by length "
        "(group_by_length) with xlt's attention implementation, the 'random batches' one is its default "
        "configuration; both run one forward per side (hence 'padding'). 'vs fair HF' = tokens/s over the "
        "reference Trainer's."
    )
    console.print(
        "Embedding: the whole encode call (tokenization, sorting, forward, pooling, normalisation, numpy) "
        "per chunk, every variant back to back on the same chunk; sent/s and tokens/s = median over chunks; "
        "xlt/ST = median over chunks of the paired time ratio; 'sent/s (total)' = all sentences / summed "
        "chunk times; min cos = lowest cosine between ST's and xlt's embedding of a warm-up sentence "
        "(on the compiled row: compiled against eager xlt). With --compile: 'compiled/ST' the same ratio "
        "for compiled xlt (which skips the padding), and the compiled row's 'xlt/ST' holds compiled over "
        "eager xlt. The unpadded row is eager xlt skipping the padding (XLT_UNPADDED=1): its 'xlt/ST' is "
        "eager xlt (Hugging Face's forward) over it."
    )
    return figures
