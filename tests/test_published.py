"""The findings page holds the studies against published claims: agrees only when an effect of the claimed
sign survives on converged stages, disagrees when one of the other sign does, otherwise not shown (with the
MDE) or not measured."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xlt.report.published import CLAIMS, published_section


def _gains(gain: float, q: float, convergence: str = "converged") -> pd.DataFrame:
    return pd.DataFrame([{
        "encoder": "me5-small", "target": "xnli", "variant": "standard", "intermediate": "sick-entailment",
        "language": "non-English", "gain": gain, "ci_low": gain - 0.01, "ci_high": gain + 0.01, "q": q,
        "mde": 0.03, "convergence": convergence,
    }])  # fmt: skip


def test_nli_claim_verdicts(tmp_path: Path) -> None:
    check = CLAIMS[0].check
    assert check([("s", tmp_path, _gains(0.02, 0.01))]).verdict == "agrees"
    assert check([("s", tmp_path, _gains(-0.02, 0.01))]).verdict == "disagrees"
    shown = check([("s", tmp_path, _gains(0.02, 0.4))])
    assert shown.verdict == "not shown" and "MDE 0.030" in shown.evidence
    assert check([("s", tmp_path, _gains(0.02, 0.01, "capped"))]).verdict == "not shown"  # not converged
    other = _gains(0.02, 0.01).assign(intermediate="stsb")  # not an inference task
    assert check([("s", tmp_path, other)]).verdict == "not measured"


def test_semb_claim_from_the_ranker_summary(tmp_path: Path) -> None:
    (tmp_path / "report").mkdir()
    rows = [
        ("semb", 0.010, 0.005, 0.015), ("logme", 0.030, 0.025, 0.035), ("random", 0.05, 0.04, 0.06),
    ]  # fmt: skip
    pd.DataFrame([
        {"encoder": "e", "scheme": "leave-one-target-out", "predictor": p, "score": "shortfall@1",
         "mean": m, "ci_low": lo, "ci_high": hi, "cases": 12} for p, m, lo, hi in rows
    ]).to_csv(tmp_path / "report" / "ranker_summary.csv", index=False)  # fmt: skip
    verdict = CLAIMS[3].check([("s", tmp_path, pd.DataFrame())])
    assert verdict.verdict == "agrees" and "semb 0.010" in verdict.evidence
    page = "\n".join(published_section([("s", tmp_path, pd.DataFrame())]))
    assert page.count("**xlt: ") == len(CLAIMS) and "not measured" in page  # RS-DA and the gains
