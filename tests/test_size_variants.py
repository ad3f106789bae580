"""Size variants: an encoder cut to its first layers, as its own point on a study's size axis."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.test_study import tiny_study
from xlt.core.errors import ConfigError
from xlt.models.encoders import encoder_info, split_variant, weights_hash
from xlt.models.sentence import SentenceEncoder
from xlt.study.config import load_study
from xlt.study.plan import build_plan


def test_variant_names_parse_and_bad_ones_are_clear_errors() -> None:
    assert split_variant("me5-small@layers=6") == ("me5-small", {"layers": 6})
    assert split_variant("org/model") == ("org/model", {})
    with pytest.raises(ConfigError, match=r"unknown encoder option 'layer' .*did you mean 'layers'"):
        split_variant("me5-small@layer=6")
    with pytest.raises(ConfigError, match="must be a positive whole number, not 'six'"):
        split_variant("me5-small@layers=six")
    with pytest.raises(ConfigError, match="has no layers to cut"):
        encoder_info("dice@layers=2")


def test_variant_keeps_the_first_layers_of_the_base_model(tiny_encoder_dir: Path) -> None:
    base = SentenceEncoder(str(tiny_encoder_dir))
    cut = SentenceEncoder(f"{tiny_encoder_dir}@layers=1")
    assert len(base.transformer.encoder.layer) == 2 and len(cut.transformer.encoder.layer) == 1
    assert cut.transformer.config.num_hidden_layers == 1
    # the kept layer is the base model's first layer, weight for weight
    for (name, a), (_, b) in zip(
        cut.transformer.encoder.layer[0].named_parameters(),
        base.transformer.encoder.layer[0].named_parameters(),
        strict=True,
    ):
        assert torch.equal(a, b), name
    assert weights_hash(f"{tiny_encoder_dir}@layers=1") == weights_hash(str(tiny_encoder_dir))
    with pytest.raises(ConfigError, match="asks for 3 layers but the model has 2"):
        SentenceEncoder(f"{tiny_encoder_dir}@layers=3")


def test_trained_variant_saves_and_loads(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    name = f"{tiny_encoder_dir}@layers=1"
    trained = SentenceEncoder(name)
    with torch.no_grad():
        trained.transformer.encoder.layer[0].output.dense.weight.add_(1.0)
    trained.save_trained(tmp_path)
    again = SentenceEncoder(name)
    again.load_trained(tmp_path)
    assert torch.equal(
        again.transformer.encoder.layer[0].output.dense.weight,
        trained.transformer.encoder.layer[0].output.dense.weight,
    )


def test_size_axis_in_a_study_gives_each_variant_its_own_stages(
    tmp_path: Path, tiny_encoder_dir: Path
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir)
    text = study.read_text().replace(
        f"encoders: ['{tiny_encoder_dir}']",
        f"encoders: ['{tiny_encoder_dir}', '{tiny_encoder_dir}@layers=1']",
    )
    study.write_text(text)
    plan = build_plan(load_study(study))
    assert {s.encoder for s in plan.stages} == {str(tiny_encoder_dir), f"{tiny_encoder_dir}@layers=1"}
    assert len({s.stage_id for s in plan.stages}) == 12  # 6 per encoder
    assert any("layers_1" in s.stage_id for s in plan.stages)
