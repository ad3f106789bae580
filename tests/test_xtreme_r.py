"""The XTREME-R summary: task averages over XTREME-R languages, category and overall averages on a hand-made
set of per-language scores, missing tasks listed, and its section and CSVs in the report of a study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from xlt.analysis.xtreme_r import CATEGORIES, OVERALL, XTREME_R_TASKS, xtreme_r_summary
from xlt.report.build import build_report
from xlt.study.results import SCORE_COLUMNS

# (intermediate, target, language, seed 1 score, seed 2 score)
HAND = [
    ("none", "xnli", "en", 0.8, 0.6),  # en 0.7
    ("none", "xnli", "de", 0.5, 0.5),  # xnli (0.7 + 0.5) / 2 = 0.6
    ("none", "xcopa", "et", 0.6, 0.6),  # classification (0.6 + 0.6) / 2 = 0.6
    ("none", "udpos", "de", 0.9, 0.9),
    ("none", "udpos", "am", 0.1, 0.1),  # Amharic is no XTREME-R language: udpos 0.9, structured 0.9
    ("none", "xquad", "en", 0.7, 0.7),
    ("none", "xquad", "th", 0.5, 0.5),  # xquad 0.6
    ("none", "tydiqa", "sw", 0.4, 0.4),  # QA (0.6 + 0.4) / 2 = 0.5; mlqa missing
    ("none", "tatoeba", "deu", 0.8, 0.8),  # deu is de
    ("none", "tatoeba", "amh", 0.2, 0.2),  # tatoeba 0.8
    ("none", "lareqa", "en", 0.3, 0.3),
    ("none", "lareqa", "zh", 0.1, 0.1),  # lareqa 0.2, retrieval (0.8 + 0.2) / 2 = 0.5
    ("none", "bucc-zh", "zh", 0.9, 0.9),  # not part of XTREME-R
    ("none", "semrel", "eng", 0.9, 0.9),  # nor this
    ("stsb", "xnli", "en", 0.9, 0.9),  # another system: xnli only
    ("stsb", "semrel", "eng", 0.9, 0.9),
]


def score_rows(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for intermediate, target, language, *seeds in rows:
        for seed, score in enumerate(seeds, start=1):
            records.append(
                {
                    "encoder": "me5-small",
                    "intermediate": intermediate,
                    "target": target,
                    "variant": "standard",
                    "language": language,
                    "split": "test",
                    "metric": "accuracy",
                    "seed": seed,
                    "score": score,
                    "n": 10,
                }
            )
    return pd.DataFrame(records, columns=SCORE_COLUMNS)


def test_summary_of_hand_made_scores() -> None:
    summary = xtreme_r_summary(score_rows(HAND))
    systems = summary.systems.set_index("intermediate")
    assert list(systems.index) == ["none", "stsb"]
    base = systems.loc["none"]
    expected_tasks = {"xnli": 0.6, "xcopa": 0.6, "udpos": 0.9, "xquad": 0.6, "tydiqa": 0.4}
    expected_tasks |= {"tatoeba": 0.8, "lareqa": 0.2}
    for task, value in expected_tasks.items():
        assert base[task] == pytest.approx(value), task
    assert base[["panx", "mlqa", "mewsli-x"]].isna().all()
    assert [base[c] for c in CATEGORIES] == pytest.approx([0.6, 0.9, 0.5, 0.5])
    assert base[OVERALL] == pytest.approx((0.6 + 0.9 + 0.5 + 0.5) / 4)
    assert base["missing"] == "panx, mlqa, mewsli-x" and base["tasks"] == "7 of 10" and base["seeds"] == 2
    assert "bucc-zh" not in summary.systems and "semrel" not in summary.systems
    # a system with one task: its one category is its score, the rest missing
    stsb = systems.loc["stsb"]
    assert stsb["xnli"] == pytest.approx(0.9) and stsb[OVERALL] == pytest.approx(0.9)
    assert pd.isna(stsb[STRUCTURED]) and stsb["tasks"] == "1 of 10"
    assert stsb["missing"].split(", ") == [t.name for t in XTREME_R_TASKS if t.name != "xnli"]

    tasks = summary.tasks.set_index("task")
    assert list(tasks.index) == [t.name for t in XTREME_R_TASKS]
    assert tasks.loc["udpos", "languages"] == 1 and tasks.loc["xnli", "languages"] == 2
    assert tasks.loc["tatoeba", "languages"] == 1 and tasks.loc["mewsli-x", "in this study"] == "no"
    assert "dev" in tasks.loc["mlqa", "differences here"]
    assert "not available" in tasks.loc["mewsli-x", "differences here"]


STRUCTURED = CATEGORIES[1]


def test_a_study_without_xtreme_r_tasks_has_no_summary() -> None:
    rows = [row for row in HAND if row[1] in ("semrel", "bucc-zh")]
    assert xtreme_r_summary(score_rows(rows)).systems.empty


def _write_results(
    directory: Path, study: str, seeds: list[int], targets: list[str], scores: pd.DataFrame
) -> None:
    """The results.json of a study without intermediates that scored `scores`."""
    payload = {
        "study": study,
        "config": {"seeds": seeds, "targets": [{"task": t} for t in targets], "evaluation": {}},
        "config_hash": "0" * 16,
        "xlt_version": "test",
        "git_commit": "test",
        "confidence": 0.95,
        "scores": json.loads(scores.to_json(orient="records")),
        "gains": [],
        "robustness": [],
        "robust_gains": [],
    }
    (directory / "results.json").write_text(json.dumps(payload))


def test_report_of_a_baseline_study_shows_the_summary(tmp_path: Path) -> None:
    """A study without intermediates has no gains, but its XTREME-R tasks make a report."""
    rows = [row for row in HAND if row[0] == "none"]
    scores = score_rows(rows)
    _write_results(tmp_path, "xtreme-r-baseline", [1, 2], ["xnli", "lareqa"], scores)
    report = build_report(tmp_path, None, permutations=20)
    text = report.markdown.read_text()
    assert "No gains" in text and "## XTREME-R summary" in text
    assert "| me5-small | standard | none | 2 | 0.600 |" in text
    assert "not comparable" in text and "BUCC" in text
    systems = pd.read_csv(tmp_path / "report" / "xtreme_r.csv")
    assert systems.loc[0, OVERALL] == pytest.approx(0.625)
    assert len(pd.read_csv(tmp_path / "report" / "xtreme_r_tasks.csv")) == len(XTREME_R_TASKS)
    assert "<h2>XTREME-R summary</h2>" in report.html.read_text()


def test_report_of_a_tatoeba_only_study(tmp_path: Path) -> None:
    """Tatoeba alone (examples/tatoeba-full.yaml) has no per-language rows for the languages section: the
    report is written without it (it raised KeyError 'distance')."""
    scores = score_rows([row for row in HAND if row[1] == "tatoeba"])
    _write_results(tmp_path, "tatoeba-full", [1], ["tatoeba"], scores)
    text = build_report(tmp_path, None, permutations=20).markdown.read_text()
    assert "## XTREME-R summary" in text and "## Languages" not in text
