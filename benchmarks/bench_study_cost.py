"""What a stage of a study costs, before and after the performance work, and what the whole preset costs.

Runs a probe study cut from a preset (default `examples/stilts-cpu.yaml`): a few intermediates and targets
of different task types, one seed, a fixed training budget, the preset's evaluation (languages, item caps,
Tatoeba check, robustness suites). It runs twice, one version after the other: with the code of `--before` (a
commit, checked out into a temporary git worktree; default: the last commit before issue 15's changes)
and with this checkout. Each stage's time per step (prepare, train, evaluate, robustness) comes from its
own `stage.json`, and training's seconds per optimizer step from its `train.json`.

The projection then prices every stage of the full preset as each version plans it (the earlier version
planned the base encoder's Tatoeba check once per seed): training at the per-step cost measured for its
task (or for a measured task of the same type) times its steps, plus the measured evaluation of its
target. Steps are taken at the cap (an upper bound: early stopping ends most stages sooner) and, with
`--observed STUDY_DIR...`, at the median steps where finished stages of those studies stopped.

Run it on an idle machine (nothing else CPU-bound): a second process makes every figure meaningless.

    python benchmarks/bench_study_cost.py --json benchmarks/results-study-cost-2core-cpu.json \\
        --figure benchmarks/figures/study-cost.png --observed runs/simrob-probe
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
# the last commit before issue 15's changes (thread governor, bf16 inference copy, seed-independent
# stages, joint evaluation, clean-prediction reuse, token cache)
BEFORE = "715c97a"

PLAN_SNIPPET = """
import json, sys
from pathlib import Path
from xlt.study.config import load_study
from xlt.study.plan import build_plan
plan = build_plan(load_study(Path(sys.argv[1])))
rows = []
for s in plan.stages:
    rows.append({"kind": s.kind, "task": s.task, "intermediate": s.intermediate, "seed": s.seed,
                 "trains": s.training is not None, "cap": (s.training.max_steps or 0) if s.training else 0,
                 "robustness": s.robustness is not None})
print(json.dumps(rows))
"""


def probe_config(preset: Path, intermediates: list[str], targets: list[str], steps: int) -> dict[str, Any]:
    """The preset with only `intermediates` and `targets`, one seed, `steps` fixed training steps (English
    dev scored as often as the preset scores it) and the preset's own evaluation settings."""
    config = yaml.safe_load(preset.read_text())
    config["name"] = f"{config['name']}-cost-probe"
    config["seeds"] = [1]
    config["intermediates"] = intermediates
    kept = []
    for entry in config["targets"]:
        name = entry if isinstance(entry, str) else entry["task"]
        if name in targets:
            kept.append(name)
    config["targets"] = kept
    budget = {"max_steps": steps, "patience": None, "epochs": 100}
    for role in ("intermediate", "target"):
        config.setdefault("training", {}).setdefault(role, {}).update(budget)
        config["training"][role].setdefault("eval_every", max(1, steps // 2))
    return config


def run_version(source: Path, config: dict[str, Any], out: Path, data_dir: Path) -> dict[str, Any]:
    """Run the probe study with the code under `source`; the stages' recorded costs and dev curves."""
    out.mkdir(parents=True, exist_ok=True)
    study = out / "probe.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {**os.environ, "PYTHONPATH": str(source / "src"), "XLT_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-c", "from xlt.cli.main import main; main()", "run", str(study)]
    subprocess.run([*command, "--output", str(out / "study"), "--no-progress"], env=env, check=True)
    stages = []
    for directory in sorted((out / "study" / "stages").iterdir()):
        record = json.loads((directory / "stage.json").read_text())
        train = directory / "train.json"
        report = json.loads(train.read_text()) if train.is_file() else None
        steps = (report or {}).get("steps") or 0
        stages.append(
            {
                "stage": directory.name,
                "type": stage_type(record),
                "task": record["task"],
                "parent": record.get("parent"),
                "seconds": record.get("steps", {}),
                "train_steps": steps,
                "train_step_seconds": (report["seconds"] / steps) if report and steps else None,
                "tokens": (report or {}).get("train_tokens"),
                "dev_curve": [[e["step"], e["dev_score"]] for e in (report or {}).get("history", [])],
            }
        )
    return {"stages": stages, "plan": plan_rows(source, out / "preset.yaml", env)}


def plan_rows(source: Path, preset_copy: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    command = [sys.executable, "-c", PLAN_SNIPPET, str(preset_copy)]
    result = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def stage_type(record: dict[str, Any]) -> str:
    if record["kind"] == "intermediate":
        return "intermediate"
    return "tatoeba" if record["task"] == "tatoeba" else "target"


def project(version: dict[str, Any], observed: dict[str, float]) -> dict[str, Any]:
    """Hours of the whole preset as this version plans it, at the caps and at the observed steps."""
    measured = version["stages"]
    per_step: dict[str, float] = {}
    fixed: dict[tuple[str, str], list[float]] = defaultdict(list)  # (type, task) -> non-training seconds
    for stage in measured:
        if stage["train_step_seconds"]:
            per_step.setdefault(stage["task"], stage["train_step_seconds"])
        other = sum(v for k, v in stage["seconds"].items() if k != "train")
        fixed[(stage["type"], stage["task"])].append(other)
    mean_step = statistics.mean(per_step.values()) if per_step else 0.0
    totals = {"cap": defaultdict(float), "observed": defaultdict(float)}
    counts: dict[str, int] = defaultdict(int)
    for row in version["plan"]:
        kind = (
            "intermediate"
            if row["kind"] == "intermediate"
            else ("tatoeba" if row["task"] == "tatoeba" else "target")
        )
        counts[kind] += 1
        step = per_step.get(row["task"], mean_step)
        rest = (
            fixed.get((kind, row["task"]))
            or [statistics.mean(v) for (k, _), v in fixed.items() if k == kind]
            or [0.0]
        )
        other = statistics.mean(rest)
        cap = row["cap"] if row["trains"] else 0
        steps_seen = min(cap, observed.get(row["task"], observed.get(kind, cap))) if row["trains"] else 0
        totals["cap"][kind] += (step * cap + other) / 3600
        totals["observed"][kind] += (step * steps_seen + other) / 3600
    return {
        "stages": dict(counts),
        "hours_at_cap": {k: round(v, 2) for k, v in totals["cap"].items()}
        | {"total": round(sum(totals["cap"].values()), 2)},
        "hours_at_observed": {k: round(v, 2) for k, v in totals["observed"].items()}
        | {"total": round(sum(totals["observed"].values()), 2)},
    }


def observed_steps(directories: list[Path]) -> dict[str, float]:
    """Median steps at which finished stages of earlier studies stopped, per task and per stage kind."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for directory in directories:
        for record_path in (directory / "stages").glob("*/stage.json"):
            record = json.loads(record_path.read_text())
            verdict = (record.get("convergence") or {}).get("verdict")
            if verdict not in ("converged", "capped"):
                continue
            steps = int(record["convergence"]["steps"])
            by_key[record["task"]].append(steps)
            by_key["intermediate" if record["kind"] == "intermediate" else "target"].append(steps)
    return {key: float(statistics.median(values)) for key, values in by_key.items()}


def per_type(version: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Mean seconds of each stage type in the probe, split by step."""
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for stage in version["stages"]:
        groups[stage["type"]].append(stage["seconds"])
    table = {}
    for kind, rows in groups.items():
        names = sorted({name for row in rows for name in row})
        table[kind] = {name: round(statistics.mean(row.get(name, 0.0) for row in rows), 2) for name in names}
    return table


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps_order = ["prepare", "train", "align", "evaluate", "robustness"]
    colours = dict(zip(steps_order, ["#bbbbbb", "#4477aa", "#228833", "#ee6677", "#ccbb44"], strict=True))
    kinds = ["intermediate", "target", "tatoeba"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels, bottoms = [], []
    x = 0
    for kind in kinds:
        for version in ("before", "after"):
            table = results[version]["per_type"].get(kind, {})
            bottom = 0.0
            for step in steps_order:
                value = table.get(step, 0.0)
                left.bar(x, value, bottom=bottom, color=colours[step], label=step if x == 0 else None)
                bottom += value
            labels.append(f"{kind}\n{version}")
            bottoms.append(bottom)
            x += 1
    left.set_ylim(0, 1.1 * max(bottoms))
    left.set_xticks(range(len(labels)), labels, fontsize=8)
    left.set_ylabel("seconds per stage (probe budget)")
    left.set_title("Per-stage cost on 2 idle cores")
    left.legend(fontsize=8)
    for version, offset in (("before", -0.2), ("after", 0.2)):
        hours = results[version]["projection"]["hours_at_cap"]
        observed = results[version]["projection"]["hours_at_observed"]
        right.bar(
            [offset], [hours["total"]], width=0.35, color="#4477aa" if version == "after" else "#bbbbbb"
        )
        colour = "#4477aa" if version == "after" else "#bbbbbb"
        right.bar([1 + offset], [observed["total"]], width=0.35, color=colour, label=version)
    right.set_xticks([0, 1], ["at the caps", "at observed stops"])
    right.set_ylabel("hours for the whole preset")
    right.set_title(f"Projected {results['preset']}")
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", type=Path, default=REPO / "examples" / "stilts-cpu.yaml")
    parser.add_argument("--intermediates", default="stsb")
    parser.add_argument("--targets", default="xnli,semrel,masakhaner")
    parser.add_argument("--steps", type=int, default=100, help="fixed training steps of every probe stage")
    parser.add_argument("--before", default=BEFORE, help="commit of the earlier version")
    parser.add_argument("--only", choices=["before", "after"], help="run one version only")
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="an earlier --json of the same probe: take the version not run from it",
    )
    parser.add_argument(
        "--observed", type=Path, nargs="*", default=[], help="finished studies to take stops from"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("XLT_DATA_DIR", REPO.parent / "shared" / "data"))
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="where the probe studies go (default: a temp dir)"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--figure", type=Path, default=None)
    args = parser.parse_args()

    config = probe_config(args.preset, args.intermediates.split(","), args.targets.split(","), args.steps)
    work = args.work or Path(tempfile.mkdtemp(prefix="xlt-study-cost-"))
    observed = observed_steps(args.observed)
    results: dict[str, Any] = {"preset": args.preset.name, "probe": config, "observed_steps": observed}
    if args.reuse is not None:
        earlier = json.loads(args.reuse.read_text())
        if earlier["probe"] != config:
            raise SystemExit(f"{args.reuse} measured another probe; run both versions")
        for version in ("before", "after"):
            if version in earlier:  # priced again with this run's observed stops
                results[version] = earlier[version] | {"projection": project(earlier[version], observed)}
    versions = ["before", "after"] if args.only is None else [args.only]
    for version in versions:
        if version == "before":
            source = work / "before-src"
            if not source.exists():
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "add", "--detach", str(source), args.before],
                    check=True,
                )
        else:
            source = REPO
        out = work / version
        out.mkdir(parents=True, exist_ok=True)
        (out / "preset.yaml").write_text(args.preset.read_text())
        measured = run_version(source, config, out, args.data_dir)
        measured["commit"] = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        measured["per_type"] = per_type(measured)
        measured["projection"] = project(measured, observed)
        results[version] = measured
        print(f"{version} ({measured['commit']}): per stage type {json.dumps(measured['per_type'])}")
        print(f"  projection: {json.dumps(measured['projection'])}")
    if "before" in results and "after" in results:
        for kind in ("intermediate", "target", "tatoeba"):
            b = sum(results["before"]["per_type"].get(kind, {}).values())
            a = sum(results["after"]["per_type"].get(kind, {}).values())
            if a:
                print(f"{kind}: {b:.1f} s before, {a:.1f} s after, {b / a:.2f}x")
        for measure in ("hours_at_cap", "hours_at_observed"):
            b, a = (results[v]["projection"][measure]["total"] for v in ("before", "after"))
            print(f"whole preset, {measure}: {b:.1f} h before, {a:.1f} h after, {b / a:.2f}x")
        if args.figure is not None and len(versions) == 2:
            draw(results, args.figure)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if "before" in results and "after" in results and args.figure is not None and len(versions) == 1:
        draw(results, args.figure)
    if "before" in versions and args.work is None:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(work / "before-src")], check=False
        )


if __name__ == "__main__":
    main()
