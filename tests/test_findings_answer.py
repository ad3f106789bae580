"""The one-paragraph answer to a research question: what survives, or why nothing does (no effect larger
than the MDE, too small a design, or no test resting only on converged stages)."""

from __future__ import annotations

import pandas as pd

from xlt.report.findings import Question, answer


def _question(
    convergence: list[str], q: list[float], mde: float = 0.01, seeds: list[int] | None = None
) -> Question:
    frame = pd.DataFrame(
        {
            "seeds": seeds or [3] * len(q),
            "target": "xnli",
            "language": [f"l{i}" for i in range(len(q))],
            "gain": 0.05,
            "ci_low": 0.01,
            "ci_high": 0.09,
            "q": q,
            "p_holm": q,
            "mde": mde,
            "family": "gains per language",
            "convergence": convergence,
        }
    )
    return Question("Does it help?", frame, "gain", ["target", "language"], "gains.csv")


def test_an_answer_says_why_nothing_counts() -> None:
    capped = answer(_question(["capped", "capped"], [0.01, 0.01]), 0.02)
    assert capped.startswith("No test counts ('gains per language'):")
    assert "2 test(s) rest on stages that did not converge (2 capped)" in capped
    quiet = answer(_question(["converged", "capped"], [0.5, 0.01]), 0.02)
    assert quiet.startswith("Nothing survives among 1 test(s)") and "no effect larger than the MDE" in quiet
    weak = answer(_question(["converged"], [0.5], mde=0.2), 0.02)
    assert "underpowered: the median MDE 0.200" in weak
    found = answer(_question(["converged", "converged"], [0.01, 0.5]), 0.02)
    assert found.startswith("1 of 2 test(s) survive") and "| xnli | l0 |" in found


def test_a_test_on_one_seed_does_not_count() -> None:
    """With one seed a trained stage's interval holds the item variance only (no seed variance), so its q
    is too small to count; an untrained stage scores the same on every seed and still counts."""
    lone = answer(_question(["converged", "converged"], [0.01, 0.5], seeds=[1, 3]), 0.02)
    assert lone.startswith("Nothing survives among 1 test(s)")
    assert "1 test(s) on converged stages rest on one seed" in lone
    mixed = answer(_question(["capped", "converged"], [0.01, 0.01], seeds=[1, 1]), 0.02)
    assert mixed.startswith("No test counts")
    assert "1 test(s) rest on stages that did not converge (1 capped)" in mixed
    assert "1 test(s) on converged stages rest on one seed" in mixed
    untrained = answer(_question(["untrained"], [0.01], seeds=[1]), 0.02)
    assert untrained.startswith("1 of 1 test(s) survive")


def test_single_seed_gains_get_no_star_and_no_agreement() -> None:
    """The heat map's stars and the published-claim check count what the answer counts."""
    from xlt.report.build import _surviving
    from xlt.report.published import _gain_verdict

    frame = _question(["converged", "converged"], [0.01, 0.01], seeds=[1, 2]).frame
    marks = _surviving(frame, "target", "language")
    assert marks is not None and marks.loc["xnli"].tolist() == [False, True]
    rows = frame.assign(study="s", intermediate="stsb").iloc[[0]]
    assert _gain_verdict(rows, "gains").verdict != "agrees"


def test_a_correlation_is_judged_against_the_smallest_correlation_of_interest() -> None:
    """A Spearman MDE of 0.25 rules out every correlation that matters (>= 0.3), while the metric-unit
    effect of interest (0.02) would call the same design underpowered; an MDE of 0.9 is underpowered."""
    from xlt.report.findings import SMALLEST_CORRELATION

    def correlations(mde: float) -> Question:
        frame = pd.DataFrame(
            {"estimator": ["semb", "logme"], "coefficient": [0.1, -0.05], "ci_low": -0.2, "ci_high": 0.3,
             "q": [0.6, 0.8], "p_holm": 1.0, "mde": mde, "family": "correlations of semb (spearman)"}
        )  # fmt: skip
        return Question(
            "Does it predict?", frame, "coefficient", ["estimator"], "c.csv", False, "correlation"
        )

    assert SMALLEST_CORRELATION == 0.3
    assert "no effect larger than the MDE (median 0.250 <= 0.3)" in answer(correlations(0.25), 0.02)
    assert "underpowered: the median MDE 0.900 exceeds the effect of interest 0.3" in answer(
        correlations(0.9), 0.02
    )
    gains = _question(["converged"], [0.5], mde=0.25)
    assert "underpowered: the median MDE 0.250 exceeds the effect of interest 0.02" in answer(gains, 0.02)


def test_the_studies_table_states_each_test_set_cap() -> None:
    """A capped test set limits every answer resting on it, so the page says how much each study scored."""
    from pathlib import Path

    from xlt.report.findings_page import _test_items
    from xlt.study.config import load_study

    examples = Path(__file__).resolve().parents[1] / "examples"
    stilts = load_study(examples / "stilts-cpu.yaml")
    assert _test_items(stilts) == "first 150 per language; Tatoeba first 200 pairs"
    assert _test_items(load_study(examples / "similarity-robustness-cpu.yaml")) == "first 100 per language"
    assert _test_items(load_study(examples / "tatoeba-full.yaml")) == "all"


def test_a_correlation_says_which_gains_rest_on_stages_that_did_not_converge() -> None:
    from xlt.report.build import _unconverged_pairs

    gains = pd.DataFrame(
        {
            "target": ["tatoeba"] * 4 + ["xnli"] * 2,
            "intermediate": ["stsb", "stsb", "mrpc", "mrpc", "stsb", "mrpc"],
            "convergence": ["converged", "converged", "capped", "converged", "converged", "converged"],
        }
    )
    note = _unconverged_pairs(gains)
    assert note == (
        "The correlations include the gains of 1 of 4 (intermediate, target) pairs whose chains have a "
        "stage that did not converge (mrpc > tatoeba)."
    )
    assert _unconverged_pairs(gains.assign(convergence="converged")) == ""
    frame = pd.DataFrame(
        {"estimator": ["semb"], "coefficient": [0.1], "ci_low": -0.5, "ci_high": 0.6, "q": [0.7],
         "p_holm": 1.0, "mde": 0.9, "family": "correlations of semb (spearman)"}
    )  # fmt: skip
    question = Question("Predicts?", frame, "coefficient", ["estimator"], "c.csv", False, "correlation", note)
    assert answer(question, 0.02).rstrip().endswith(note)
