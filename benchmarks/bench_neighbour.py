"""How much slower a stage gets when one other CPU-bound process shares the machine.

Runs the same piece of a stage (`throughput/neighbour_workload.py`: xlt fine-tunes me5-small for `--steps`
steps on STS-B, then embeds `--sentences` sentences), each in a fresh process, on a quiet machine and while
a neighbour (a single-threaded Python busy loop) runs, under two thread policies:

- `governor`: xlt's default (`xlt.models.threads`): all cores, one fewer while others keep one busy;
- `fixed`: `XLT_THREADS=<cores>`, every core all the time (torch's own default, what xlt did before).

Runs are interleaved (quiet and busy, each policy in turn, `--repeats` rounds) and the fastest of each
cell counts. Prints each cell and the slowdown ratio busy / quiet per policy and part; the goal is at most
2.5x with the governor and no loss on a quiet machine (governor quiet / fixed quiet about 1).
Run on an otherwise idle machine: `python benchmarks/bench_neighbour.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

WORKLOAD = Path(__file__).parent / "throughput" / "neighbour_workload.py"
PARTS = ("train_seconds", "encode_seconds")


def run_workload(policy: str, busy: bool, steps: int, sentences: int) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("XLT_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    if policy == "fixed":
        env["XLT_THREADS"] = str(len(os.sched_getaffinity(0)))
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"], env=env) if busy else None
    try:
        done = subprocess.run(
            [sys.executable, str(WORKLOAD), "--steps", str(steps), "--sentences", str(sentences)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"{len(os.sched_getaffinity(0))} cores, 1-minute load {load:.2f} at start")
    cells: dict[tuple[str, bool], list[dict[str, float]]] = {}
    for round_ in range(args.repeats):
        for policy in ("governor", "fixed"):
            for busy in (False, True):
                result = run_workload(policy, busy, args.steps, args.sentences)
                cells.setdefault((policy, busy), []).append(result)
                print(
                    f"  round {round_ + 1} {policy:8s} {'busy ' if busy else 'quiet'}: train "
                    f"{result['train_seconds']:6.1f} s, encode {result['encode_seconds']:5.1f} s, threads at "
                    f"end {result['threads_at_end']}, changes {result['thread_changes']}",
                    flush=True,
                )
    best = {key: {part: min(r[part] for r in runs) for part in PARTS} for key, runs in cells.items()}
    summary: dict[str, dict[str, float]] = {}
    print("\nslowdown with one busy neighbour (fastest of the rounds; busy / quiet):")
    for policy in ("governor", "fixed"):
        ratios = {part: best[(policy, True)][part] / best[(policy, False)][part] for part in PARTS}
        summary[policy] = ratios
        print(f"  {policy:8s} train {ratios['train_seconds']:5.2f}x  encode {ratios['encode_seconds']:5.2f}x")
    quiet = {part: best[("governor", False)][part] / best[("fixed", False)][part] for part in PARTS}
    print(
        f"quiet machine, governor / fixed: train {quiet['train_seconds']:.2f}x, encode "
        f"{quiet['encode_seconds']:.2f}x (1.00 = no cost)"
    )
    if args.json is not None:
        payload = {"cells": {f"{p}-{'busy' if b else 'quiet'}": v for (p, b), v in cells.items()}}
        payload |= {"slowdown": summary, "quiet_governor_over_fixed": quiet, "load_at_start": load}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
