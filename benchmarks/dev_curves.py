"""English-dev curves of stages on this machine: where each stops improving, and what a step costs.

Trains one stage per task with a generous step cap and no early stopping, evaluating the English dev set
every `--eval-every` steps, and prints (step, dev score, seconds since the start) per evaluation, with
the verdict early stopping would have given at each (patience, min_delta) of `--patience`/`--min-delta`.
The defaults of the convergence budget in the CPU presets come from these curves (README, "Training").
Run one at a time on an otherwise idle machine: `python benchmarks/dev_curves.py xnli semrel-eng`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from xlt.core.settings import resolve_data_dir
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import get_task
from xlt.training.config import TrainingConfig
from xlt.training.kinds import make_kind
from xlt.training.loop import EarlyStopping, fit, seed_everything


def curve(task_name: str, args: argparse.Namespace) -> dict[str, object]:
    """Train `task_name` once with the cap and return its dev curve with wall-clock seconds per point."""
    task = get_task(task_name)
    english = task.languages["train"][0]
    data_dir = resolve_data_dir(None)
    config = TrainingConfig(
        epochs=1000,
        max_steps=args.max_steps,
        batch_size=16,
        learning_rate=args.learning_rate.get(task_name, 3e-5),
        max_length=96,
        dropout=0.0,
        eval_every=args.eval_every,
        dev_limit=args.dev_limit,
    )
    seed_everything(args.seed)
    kind = make_kind(SentenceEncoder(args.encoder), task, config)
    start = time.perf_counter()
    reached: dict[int, float] = {}

    def on_step(step: int, total: int, loss: float) -> None:
        if step % args.eval_every == 0 or step == total:
            reached[step] = time.perf_counter() - start

    report = fit(
        kind,
        task.load(data_dir, "train", english),
        task.load(data_dir, "dev", english),
        config,
        args.seed,
        on_step=on_step,
        stage=task_name,
    )
    points = [
        {
            "step": int(e["step"]),
            "dev": round(e["dev_score"], 4),
            "seconds": round(reached[int(e["step"])], 1),
        }
        for e in report.history
    ]
    return {
        "task": task_name,
        "metric": task.metric,
        "config": config.model_dump(mode="json"),
        "curve": points,
    }


def would_stop(points: list[dict[str, float]], patience: int, min_delta: float) -> str:
    """Where early stopping with these settings would have ended the measured curve."""
    stopping = EarlyStopping(patience, min_delta)
    for point in points:
        if stopping.update(int(point["step"]), point["dev"]):
            best = f"best {stopping.reference:.4f} at {stopping.improved_at}"
            return f"stops at step {point['step']:.0f}, {best}"
    return "never stops before the cap (capped)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tasks", nargs="+")
    parser.add_argument("--encoder", default="me5-small")
    parser.add_argument("--max-steps", type=int, default=600)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--dev-limit", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--patience", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--min-delta", type=float, nargs="+", default=[0.002, 0.005])
    parser.add_argument("--json", type=Path, default=None, help="append each curve as a JSON line here")
    args = parser.parse_args()
    args.learning_rate = {"masakhaner": 1e-4}
    for name in args.tasks:
        result = curve(name, args)
        points = result["curve"]
        assert isinstance(points, list)
        print(f"{name} ({result['metric']}, English dev, {args.dev_limit} items)")
        for point in points:
            print(f"  step {point['step']:5d}  dev {point['dev']:.4f}  {point['seconds']:7.1f} s")
        for patience in args.patience:
            for min_delta in args.min_delta:
                outcome = would_stop(points, patience, min_delta)
                print(f"  patience {patience}, min_delta {min_delta:g}: {outcome}")
        if args.json is not None:
            with args.json.open("a") as handle:
                handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
