"""Evaluating a target in every language: one language at a time against one pass batched by length across
languages (`xlt.evaluation.batching`), each with a cold and a warm token cache (`xlt.models.tokens`: the
second stage of a study that shares the encoder finds its test sets tokenized).

me5-small with a fresh classification head (the cost does not depend on what the head learnt) on XNLI's
15 test languages x `--items` items; the arms are interleaved and repeated, and the median is printed.
Predictions of the two ways are compared item by item (they differ only by batch-shape numerics).

    python benchmarks/bench_evaluation.py [--items 200] [--repeats 3] [--task xnli]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="xnli")
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("XLT_DATA_DIR", REPO.parent / "shared" / "data"))
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import torch

    from xlt.core.sampling import subset_rows
    from xlt.evaluation.zero_shot import evaluate_language, evaluate_languages
    from xlt.models import tokens
    from xlt.models.sentence import SentenceEncoder
    from xlt.tasks import get_task
    from xlt.training.config import TrainingConfig
    from xlt.training.kinds import make_kind

    torch.manual_seed(0)
    task = get_task(args.task)
    kind = make_kind(SentenceEncoder("me5-small", max_length=96), task, TrainingConfig())
    languages = list(task.languages["test"])
    items = sum(len(subset_rows(task.load(args.data_dir, "test", lang), args.items)) for lang in languages)

    def per_language() -> list[list[object]]:
        return [
            evaluate_language(task, args.data_dir, lang, kind=kind, max_examples=args.items).pred
            for lang in languages
        ]

    def joint() -> list[list[object]]:
        return [
            r.pred
            for r in evaluate_languages(task, args.data_dir, languages, kind=kind, max_examples=args.items)
        ]

    arms = {
        "per language, cold cache": (per_language, True),
        "per language, warm cache": (per_language, False),
        "joint, cold cache": (joint, True),
        "joint, warm cache": (joint, False),
    }
    joint()  # warm-up: weights, bf16 copy, data files
    seconds: dict[str, list[float]] = {name: [] for name in arms}
    outputs: dict[str, list[list[object]]] = {}
    for _ in range(args.repeats):
        for name, (run, cold) in arms.items():
            if cold:
                tokens.clear()
            start = time.perf_counter()
            outputs[name] = run()
            seconds[name].append(time.perf_counter() - start)
    flat = {name: [p for lang in out for p in lang] for name, out in outputs.items()}
    agreement = sum(
        a == b for a, b in zip(flat["per language, cold cache"], flat["joint, cold cache"], strict=True)
    )
    reference = statistics.median(seconds["per language, cold cache"])
    threads = torch.get_num_threads()
    print(f"{args.task}: {len(languages)} languages, {items} items, me5-small, {threads} threads")
    results = {}
    for name, times in seconds.items():
        median = statistics.median(times)
        results[name] = {"seconds": times, "median": median, "items_per_second": items / median}
        print(f"  {name:26s} {median:6.2f} s  {items / median:6.1f} items/s  {reference / median:.2f}x")
    print(f"  joint and per-language predictions agree on {agreement} of {items} items")
    if args.json is not None:
        payload = {"task": args.task, "items": items, "threads": torch.get_num_threads(), "arms": results,
                   "agreement": agreement}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
