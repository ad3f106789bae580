"""Alignment as a factor of a study and in train-eval: fitted on the trained encoder, saved with it, and
applied to the evaluation language's embeddings only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xlt.alignment.multi import AlignmentModule, MultiProjection
from xlt.cli.main import app
from xlt.core.errors import ConfigError
from xlt.models.modules import MODULE_CONFIG
from xlt.models.sentence import ALIGNMENT_DIR, SentenceEncoder
from xlt.runs.store import STAGE_RECORD, RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan
from xlt.study.stage_files import PREDICTIONS


def study_file(tmp_path: Path, encoder: Path, extra: str) -> Path:
    path = tmp_path / "aligned.yaml"
    path.write_text(
        f"name: aligned\nencoders: ['{encoder}']\nseeds: [1]\ntargets: [stsb-multi]\n"
        "training: {target: {max_steps: 3, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1}}\n"
        "evaluation: {languages: [en, de], max_examples: 30, bootstrap: 50}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n{extra}"
    )
    return path


def test_alignment_factor(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    plan = build_plan(load_study(study_file(tmp_path, tiny_encoder_dir, "alignments: [none, procrustes]\n")))
    assert [s.variant for s in plan.targets] == ["standard", "procrustes"]
    assert "alignment" not in plan.targets[0].spec() and plan.targets[1].spec()["alignment"] == "procrustes"
    store = RunStore(tmp_path / "runs" / "aligned")
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    assert not outcome.failed, outcome.failed
    plain, aligned = (
        json.loads((store.stage_dir(s.stage_id) / PREDICTIONS).read_text()) for s in plan.targets
    )
    # the same training; English is untouched by a projection without pre-processing, German is mapped
    assert aligned["en"]["pred"] == plain["en"]["pred"]
    assert aligned["de"]["pred"] != plain["de"]["pred"]
    saved = MultiProjection.load(store.stage_dir(plan.targets[1].stage_id) / ALIGNMENT_DIR)
    assert list(saved) == ["de"]
    # the aligned encoder loads back with its projections
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    encoder.load_trained(store.stage_dir(plan.targets[1].stage_id))
    assert isinstance(encoder.post_pooling, AlignmentModule) and "de" in encoder.post_pooling.projections
    # stages written before modules named their class (no module.json) still load as an alignment; such a
    # stage was also written before stage.json listed its files (else it would count as damaged)
    (store.stage_dir(plan.targets[1].stage_id) / ALIGNMENT_DIR / MODULE_CONFIG).unlink()
    record_path = store.stage_dir(plan.targets[1].stage_id) / STAGE_RECORD
    record = json.loads(record_path.read_text())
    del record["files"]
    record_path.write_text(json.dumps(record))
    legacy = SentenceEncoder(str(tiny_encoder_dir))
    legacy.load_trained(store.stage_dir(plan.targets[1].stage_id))
    assert isinstance(legacy.post_pooling, AlignmentModule)
    texts = ["ein Hund läuft", "eine Katze schläft"]
    np.testing.assert_array_equal(legacy.encode(texts, language="de"), encoder.encode(texts, language="de"))
    # the language of the texts, an argument and not encoder state, selects the projection
    assert not np.allclose(encoder.encode(texts, language="de"), encoder.encode(texts))
    payload = write_results(plan, store)
    assert {(r["variant"], r["language"]) for r in payload["scores"]} == {
        (v, lang) for v in ("standard", "procrustes") for lang in ("en", "de")
    }
    # what the alignment buys: aligned - unaligned on the same stage's items, with its interval
    gains = {r["language"]: r for r in payload["alignment_gains"]}
    assert set(gains) >= {"en", "de", "macro-avg"}
    assert gains["en"]["gain"] == 0.0 and gains["en"]["unaligned"] == gains["en"]["aligned"]
    by_score = {(r["variant"], r["language"]): r["score"] for r in payload["scores"]}
    assert gains["de"]["gain"] == pytest.approx(by_score[("procrustes", "de")] - by_score[("standard", "de")])
    assert gains["de"]["ci_low"] <= gains["de"]["gain"] <= gains["de"]["ci_high"]
    assert gains["de"]["family"] == "alignment gains per language" and "q" in gains["de"]
    assert (store.root / "alignment_gains.csv").is_file()


def test_lir_is_an_alignment_of_a_study(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    plan = build_plan(load_study(study_file(tmp_path, tiny_encoder_dir, "alignments: [lir+rank=2]\n")))
    store = RunStore(tmp_path / "runs" / "aligned")
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    assert not outcome.failed, outcome.failed
    saved = MultiProjection.load(store.stage_dir(plan.targets[0].stage_id) / ALIGNMENT_DIR)
    assert saved["de"].method == "lir" and saved["de"].options["rank"] == 2
    assert {r["variant"] for r in write_results(plan, store)["scores"]} == {"lir+rank=2"}


def test_unknown_alignment_is_a_config_error(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown alignment 'procrustez'"):
        load_study(study_file(tmp_path, tiny_encoder_dir, "alignments: [none, procrustez]\n"))


def test_train_eval_align_prints_both_tables(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["train-eval", "--task", "stsb-multi", "--encoder", str(tiny_encoder_dir), "--limit", "24",
         "--steps", "2", "--languages", "en,de", "--align", "least_squares",
         "--output", str(tmp_path / "runs"), "--data-dir", str(data_dir), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "least_squares" in result.output and "standard" in result.output


def test_sentence_transformers_export_embeds_into_the_projected_space(
    tiny_encoder_dir: Path, tmp_path: Path
) -> None:
    import numpy as np

    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer

    from xlt.alignment.export import export_sentence_transformers
    from xlt.alignment.learners import procrustes

    encoder = SentenceEncoder(str(tiny_encoder_dir))
    texts = ["Der Hund schläft.", "Ein kurzer Satz.", "Das Wetter ist schön heute."]
    pooled = encoder.encode(texts, normalize=False, precision="fp32")
    rng = np.random.default_rng(0)
    source = rng.standard_normal((64, encoder.dim))
    rotation, _ = np.linalg.qr(rng.standard_normal((encoder.dim, encoder.dim)))
    projection = procrustes(source, source @ rotation)
    model_dir = export_sentence_transformers(str(tiny_encoder_dir), projection, tmp_path / "st")
    exported = SentenceTransformer(str(model_dir), device="cpu").encode(texts)
    np.testing.assert_allclose(exported, projection.transform_source(pooled.astype(np.float64)), atol=2e-4)
