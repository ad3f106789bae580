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
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from rich.console import Console

# `throughput` is the package beside this script: Python puts the script's directory on sys.path
from throughput.common import ENCODER, EmbedResult, Settings, TrainPrecision, non_embedding_parameters
from throughput.embedding import bench_embedding
from throughput.peak import layer_gflops, matmul_gflops
from throughput.report import environment, print_report
from throughput.training import bench_training


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
    parser.add_argument(
        "--compile",
        action="store_true",
        help="add xlt with compiled forward passes (`xlt --compile`) to the training and embedding rows",
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
        compile=args.compile,
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
    # the same products at me5-small's shapes (hidden 384, feed-forward 1536) on one batch of tokens
    shape_tokens = settings.batch_size * settings.max_length
    peaks |= {
        f"{name} at model shapes": layer_gflops(dtype, shape_tokens, 384, 1536, 10)
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
