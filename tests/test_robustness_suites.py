"""Robustness suites on a tiny study: perturbed copies of the test items, generalized pairs, the table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datasets import Dataset

from xlt.data.schema import FEATURES, TaskType
from xlt.robustness.suites import ROBUSTNESS, perturb_dataset
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.robustness import ROBUST_GAINS_CSV, ROBUSTNESS_CSV
from xlt.study.runner import run_plan


def test_perturbed_copies_keep_ids_labels_and_tags() -> None:
    pairs = Dataset.from_list(
        [{"id": "1", "sentence1": "Ọ̀yọ́ is a city", "sentence2": "the dog sleeps well", "label": 2}],
        features=FEATURES[TaskType.PAIR_CLASSIFICATION],
    )
    stripped = perturb_dataset(pairs, TaskType.PAIR_CLASSIFICATION, "diacritics", 0.1, 0)
    assert stripped is not None and stripped[0]["sentence1"] == "Oyo is a city" and stripped[0]["label"] == 2
    swapped = perturb_dataset(pairs, TaskType.PAIR_CLASSIFICATION, "word-swap", 1.0, 0)
    assert swapped is not None
    assert sorted(swapped[0]["sentence2"].split()) == sorted(["the", "dog", "sleeps", "well"])
    tags = Dataset.from_list(
        [{"id": "t", "tokens": ["Àbújá", "ni"], "tags": ["B-LOC", "O"]}],
        features=FEATURES[TaskType.TOKEN_TAGGING],
    )
    assert perturb_dataset(tags, TaskType.TOKEN_TAGGING, "word-drop", 0.5, 0) is None  # would misalign tags
    noisy = perturb_dataset(tags, TaskType.TOKEN_TAGGING, "char-noise", 1.0, 0)
    assert noisy is not None and len(noisy[0]["tokens"]) == 2 and all(noisy[0]["tokens"])


def test_suites_in_a_study(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    study = tmp_path / "robust.yaml"
    study.write_text(
        f"name: robust\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\ntargets: [xnli]\n"
        "training: {target: {max_steps: 2, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1}}\n"
        "evaluation: {languages: [en, sw, de], max_examples: 24, bootstrap: 50,\n"
        "  robustness: {suites: [char-noise, diacritics, word-drop, generalized, attack], rate: 0.3,\n"
        "               attack_radius: 5.0, attack_step_size: 2.0}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    plan = build_plan(load_study(study))
    suites = ["char-noise", "diacritics", "word-drop", "generalized", "attack"]
    assert plan.targets[0].spec()["robustness"]["suites"] == suites
    store = RunStore(tmp_path / "runs" / "robust")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    saved = json.loads((store.stage_dir(plan.targets[0].stage_id) / ROBUSTNESS).read_text())
    assert set(saved) == set(suites)
    for entry in saved["attack"].values():  # robust accuracy under a large radius is at most clean accuracy
        assert entry["metric"] == "accuracy" and entry["perturbed"] <= entry["clean"]
    assert set(saved["char-noise"]) == {"en", "sw", "de"}
    assert set(saved["generalized"]) == {
        f"{a}>{b}" for a in ("en", "sw", "de") for b in ("en", "sw", "de") if a != b
    }
    clean = json.loads((store.stage_dir(plan.targets[0].stage_id) / "predictions.json").read_text())
    for language in ("en", "sw", "de"):  # the suites' clean score is the stage's own clean score
        assert saved["char-noise"][language]["clean"] == clean[language]["score"]
    for entry in (e for suite in saved.values() for e in suite.values()):
        assert np.isclose(entry["drop"], entry["clean"] - entry["perturbed"]) and entry["n"] > 0
        items = entry["items"]  # the per-item predictions behind the scores, for the bootstrap
        assert (
            entry["paired"]
            and len(items["clean"]) == len(items["perturbed"]) == len(items["gold"]) == entry["n"]
        )
        hits = [
            np.mean(np.asarray(items[arm]) == np.asarray(items["gold"])) for arm in ("clean", "perturbed")
        ]
        assert np.allclose(hits, [entry["clean"], entry["perturbed"]])
    write_results(plan, store)
    table = pd.read_csv(store.root / ROBUSTNESS_CSV)
    assert {"African", "non-English"} <= set(table.language)  # group rows (sw is African)
    # the generalized suite's rows are pairs, which no language group takes: one row holds their mean
    generalized = table[table.suite == "generalized"].set_index("language")
    assert "non-English" not in generalized.index
    pairs = generalized[generalized.index.str.contains(">")]
    assert len(pairs) == 6 and np.isclose(generalized.loc["all pairs", "drop"], pairs["drop"].mean())
    assert generalized.loc["all pairs", "family"] == "drops per group"
    assert table[["ci_low", "ci_high"]].notna().all().all()
    assert (table.ci_low <= table["drop"] + 1e-9).all() and (table["drop"] <= table.ci_high + 1e-9).all()
    # diacritics change no English or Swahili input here: the same predictions, a drop of exactly 0 +- 0
    unchanged = table[(table.suite == "diacritics") & table.language.isin(["en", "sw"])]
    assert (unchanged[["drop", "ci_low", "ci_high"]] == 0).all().all()


def test_generalized_qa_pairs_in_a_study(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    """MLQA: context in A, question in B (row "A>B"), against the same questions asked in A."""
    study = tmp_path / "gxlt.yaml"
    study.write_text(
        f"name: gxlt\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\ntargets: [mlqa]\n"
        "training: {target: {max_steps: 2, batch_size: 8, train_limit: 16, dev_limit: 8, evaluations: 1}}\n"
        "evaluation: {languages: [en, de, zh], max_examples: 8, bootstrap: 20,\n"
        "             robustness: {suites: [generalized]}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    plan = build_plan(load_study(study))
    store = RunStore(tmp_path / "runs" / "gxlt")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    stage = store.stage_dir(plan.targets[0].stage_id)
    saved = json.loads((stage / ROBUSTNESS).read_text())["generalized"]
    assert set(saved) == {f"{a}>{b}" for a in ("en", "de", "zh") for b in ("en", "de", "zh") if a != b}
    for entry in saved.values():
        assert entry["metric"] == "squad_f1" and entry["paired"] and entry["n"] == 8
        assert np.isclose(entry["drop"], entry["clean"] - entry["perturbed"])
        assert all(isinstance(answers, list) and answers for answers in entry["items"]["gold"])
    predictions = json.loads((stage / "predictions.json").read_text())
    assert set(predictions["de"]["extra"]) == {"squad_em"}  # QA is scored by F1 and EM
    write_results(plan, store)
    table = pd.read_csv(store.root / ROBUSTNESS_CSV)
    assert {"en>de", "zh>en"} <= set(table[table.suite == "generalized"].language)


def test_report_has_a_robustness_section(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    from rich.console import Console

    from xlt.report.build import build_report
    from xlt.study.records import record_study

    study = tmp_path / "robust.yaml"
    study.write_text(
        f"name: robust\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\ntargets: [umsab]\n"
        "robust_methods: [standard, rs-noise]\n"
        "training: {target: {max_steps: 2, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1,\n"
        "                    robust: {votes: 2}}}\n"
        "evaluation: {languages: [en, fr], max_examples: 16, bootstrap: 20,\n"
        "             robustness: {suites: [char-noise, word-swap, generalized]}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    config = load_study(study)
    plan = build_plan(config)
    store = RunStore(tmp_path / "runs" / "robust")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    record_study(store.root, config, Console())
    log = (store.root / "logs" / f"{plan.targets[0].stage_id}.log").read_text()
    assert (
        "suite generalized: no rows for umsab (mlqa, pawsx, stsb-multi, xnli only" in log
    )  # says why it is absent
    write_results(plan, store)
    report = build_report(store.root, data_dir, permutations=50)
    text = report.markdown.read_text()
    assert "## Robustness" in text and "rs-noise" in text and "No gains" in text
    # the headline: one row per method x intermediate, cells clean / perturbed / drop per language group
    table = pd.read_csv(store.root / ROBUSTNESS_CSV)
    english = table[(table.language == "en") & (table.variant == "rs-noise")]
    clean, perturbed = english.clean.mean(), english.perturbed.mean()
    assert f"| rs-noise | none | {clean:.3f} / {perturbed:.3f} / {clean - perturbed:+.3f} |" in text
    assert (store.root / "report" / "figures" / "robustness.png").stat().st_size > 1000
    # each robust method against standard training: its perturbed score minus standard's, same items
    gains = pd.read_csv(store.root / ROBUST_GAINS_CSV)
    assert set(gains.variant) == {"rs-noise"} and "### Robust methods against standard training" in text
    keys = ["suite", "language"]
    standard = table[table.variant == "standard"].set_index(keys).perturbed
    robust = table[table.variant == "rs-noise"].set_index(keys).perturbed
    for row in gains.itertuples():
        assert np.isclose(row.standard, standard[(row.suite, row.language)])
        assert np.isclose(row.robust, robust[(row.suite, row.language)])
        assert (
            np.isclose(row.gain, row.robust - row.standard)
            and row.ci_low - 1e-9 <= row.gain <= row.ci_high + 1e-9
        )
    group = table[(table.language == "non-English") & (table.suite == "char-noise")].iloc[0]
    assert (
        f"{group['drop']:+.3f} [{group.ci_low:+.3f}, {group.ci_high:+.3f}]" in text
    )  # drop and its interval


def test_out_of_domain_suite(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    study = tmp_path / "ood.yaml"
    study.write_text(
        f"name: ood\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\ntargets: [stsb-multi]\n"
        "training: {target: {max_steps: 2, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1}}\n"
        "evaluation: {languages: [en, de], max_examples: 30, bootstrap: 20,\n"
        "             robustness: {suites: [ood, attack]}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    plan = build_plan(load_study(study))
    store = RunStore(tmp_path / "runs" / "ood")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    saved = json.loads((store.stage_dir(plan.targets[0].stage_id) / ROBUSTNESS).read_text())
    # SemRel (the default out-of-domain set of stsb-multi) has English but no German
    assert set(saved["ood"]) == {"en"} and saved["ood"]["en"]["n"] == 30
    clean = json.loads((store.stage_dir(plan.targets[0].stage_id) / "predictions.json").read_text())
    assert saved["ood"]["en"]["clean"] == clean["en"]["score"]
    assert not saved["ood"]["en"]["paired"] and len(saved["ood"]["en"]["items"]["gold_perturbed"]) == 30
    write_results(plan, store)
    row = pd.read_csv(store.root / ROBUSTNESS_CSV).query("suite == 'ood' and language == 'en'").iloc[0]
    assert row.ci_low < row["drop"] < row.ci_high  # unpaired: two item sets, never a zero-width interval
    # a pair-regression target has an attack too: Spearman under the similarity attack, per language
    assert set(saved["attack"]) == {"en", "de"}
    # its clean score is the evaluation's, up to bf16 rounding where bf16 runs: under the attack's hook
    # the encoder leaves its bf16 inference copy for the fp32 weights under autocast
    for language, entry in saved["attack"].items():
        assert entry["metric"] == "spearman" and entry["paired"]
        assert entry["clean"] == pytest.approx(clean[language]["score"], abs=0.02)


def test_ood_mapping_is_checked_before_anything_runs(tmp_path: Path) -> None:
    from xlt.core.errors import ConfigError

    def plan_with(ood: str, targets: str = "[semrel, xnli]") -> None:
        study = tmp_path / "ood.yaml"
        study.write_text(
            f"name: ood\nencoders: [dice]\ntargets: {targets}\n"
            f"evaluation: {{robustness: {{suites: [ood], ood: {ood}}}}}\n"
        )
        build_plan(load_study(study))

    plan_with("{semrel: stsb-multi}", targets="[semrel]")  # same type: fine
    for ood, message in [
        ("{pawsx: xnli}", "'pawsx', which is not a target of this study"),
        ("{semrel: sst2}", "'sst2' is single_classification, not pair_regression like target 'semrel'"),
        ("{xnli: pawsx}", "'pawsx' has labels ['not_paraphrase', 'paraphrase'], not ['entailment'"),
        ("{semrel: stsb-mult}", "unknown task 'stsb-mult'"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            plan_with(ood)
