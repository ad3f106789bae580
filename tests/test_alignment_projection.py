"""Alignment projections: closed-form and gradient-descent learners, pre-processing, folding into one affine
map, persistence, the torch module and the sentence-transformers `Dense` export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from xlt.alignment.learners import fit_projection, gradient_descent, least_squares, procrustes
from xlt.alignment.multi import MultiProjection
from xlt.alignment.preprocessing import Preprocessing
from xlt.alignment.projection import Projection, export_dense
from xlt.core.errors import DataError

METHODS = ["least_squares", "procrustes", "gradient_descent"]
PREPROCESSING: list[dict[str, Any]] = [
    {},
    {"centre": True},
    {"whiten": True},
    {"centre": True, "whiten": True},
]
FAST_GD = {"epochs": 30, "lr": 1e-2, "batch_size": 64}


def _orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _correlated(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Anisotropic embeddings with a non-zero mean: rows of Z L + m."""
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.standard_normal(d)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _fit(method: str, s: np.ndarray, t: np.ndarray, **options: Any) -> Projection:
    extra = FAST_GD if method == "gradient_descent" else {}
    return fit_projection(s, t, method, **extra, **options)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def pairs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy affinely related pairs, n=300, d=12."""
    s = _correlated(300, 12, rng)
    t = s @ rng.standard_normal((12, 12)) + rng.standard_normal(12) + 0.1 * rng.standard_normal((300, 12))
    return s, t


# ------------------------------------------------------------------------------------------- learners


def test_procrustes_is_orthogonal_and_recovers_an_orthogonal_map(rng: np.random.Generator) -> None:
    d = 16
    s = rng.standard_normal((100, d))
    q = _orthogonal(d, rng)
    projection = procrustes(s, s @ q)
    w = projection.weight
    np.testing.assert_allclose(w.T @ w, np.eye(d), atol=1e-5)
    np.testing.assert_allclose(w, q, atol=1e-8)
    np.testing.assert_array_equal(projection.bias, np.zeros(d))
    assert projection.fit_mse < 1e-20

    # a non-orthogonal relation still gives an orthogonal W
    noisy = procrustes(s, s @ rng.standard_normal((d, d)))
    np.testing.assert_allclose(noisy.weight.T @ noisy.weight, np.eye(d), atol=1e-5)


def test_procrustes_with_bias_recovers_rotation_and_translation(rng: np.random.Generator) -> None:
    d = 10
    s = rng.standard_normal((80, d))
    q, shift = _orthogonal(d, rng), rng.standard_normal(d)
    projection = procrustes(s, s @ q + shift, bias=True)
    np.testing.assert_allclose(projection.weight, q, atol=1e-8)
    np.testing.assert_allclose(projection.bias, shift, atol=1e-8)


def test_least_squares_recovers_a_linear_map_and_bias(rng: np.random.Generator) -> None:
    n, d = 50, 12
    s = rng.standard_normal((n, d))
    w0, b0 = rng.standard_normal((d, d)), rng.standard_normal(d)

    linear = least_squares(s, s @ w0)
    assert _relative(linear.weight, w0) < 1e-6
    np.testing.assert_array_equal(linear.bias, np.zeros(d))

    affine = least_squares(s, s @ w0 + b0, bias=True)
    assert _relative(affine.weight, w0) < 1e-6
    assert _relative(affine.bias, b0) < 1e-6
    assert affine.options["bias"] is True and affine.options["ridge"] == 0.0


def test_ridge_matches_the_closed_form(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    s, t = pairs
    lam = 3.0
    expected = np.linalg.solve(s.T @ s + lam * np.eye(s.shape[1]), s.T @ t)
    assert _relative(least_squares(s, t, ridge=lam).weight, expected) < 1e-8
    # with a bias, the penalty applies to W only, on centred data
    sc, tc = s - s.mean(0), t - t.mean(0)
    expected_c = np.linalg.solve(sc.T @ sc + lam * np.eye(s.shape[1]), sc.T @ tc)
    with_bias = least_squares(s, t, ridge=lam, bias=True)
    assert _relative(with_bias.weight, expected_c) < 1e-8
    np.testing.assert_allclose(with_bias.bias, t.mean(0) - s.mean(0) @ expected_c, atol=1e-10)


def test_gradient_descent_approaches_least_squares_and_is_deterministic(rng: np.random.Generator) -> None:
    n, d = 200, 8
    s = rng.standard_normal((n, d))
    t = s @ (np.eye(d) + 0.5 * rng.standard_normal((d, d))) + 0.3 + 0.1 * rng.standard_normal((n, d))
    reference = least_squares(s, t, bias=True)

    settings: dict[str, Any] = {"epochs": 300, "lr": 0.02, "batch_size": None, "seed": 3}
    first = gradient_descent(s, t, **settings)
    assert _relative(first.weight, reference.weight) < 1e-2
    assert _relative(first.bias, reference.bias) < 1e-2
    assert first.fit_mse == pytest.approx(reference.fit_mse, rel=1e-2)

    again = gradient_descent(s, t, **settings)
    np.testing.assert_array_equal(again.weight, first.weight)
    np.testing.assert_array_equal(again.bias, first.bias)

    # mini-batches and random initialisation: the seed alone decides the result
    minibatch: dict[str, Any] = {"epochs": 5, "lr": 1e-2, "batch_size": 32, "init": "random"}
    a = gradient_descent(s, t, seed=1, **minibatch)
    b = gradient_descent(s, t, seed=1, **minibatch)
    c = gradient_descent(s, t, seed=2, **minibatch)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.weight, c.weight)


def test_gradient_descent_leaves_the_global_rng_alone(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    gradient_descent(*pairs, init="random", **FAST_GD)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------------------------- pre-processing


def test_whitening_gives_identity_covariance_and_zero_mean(rng: np.random.Generator) -> None:
    s, t = _correlated(500, 10, rng), _correlated(500, 10, rng)
    projection = procrustes(s, t, whiten=True)
    for whitened in (projection.source.apply(s), projection.transform_target(t)):
        np.testing.assert_allclose(whitened.mean(axis=0), np.zeros(10), atol=1e-10)
        np.testing.assert_allclose(np.cov(whitened, rowvar=False), np.eye(10), atol=1e-4)
    assert projection.options["whiten"] and projection.options["centre"]  # whitening implies centring
    whitener = projection.source.whitener
    assert whitener is not None
    np.testing.assert_array_equal(whitener, whitener.T)  # ZCA: symmetric


def test_centring_gives_zero_mean(rng: np.random.Generator) -> None:
    s, t = _correlated(200, 6, rng), _correlated(200, 6, rng)
    projection = least_squares(s, t, centre=True)
    np.testing.assert_allclose(projection.source.apply(s).mean(axis=0), np.zeros(6), atol=1e-10)
    np.testing.assert_allclose(projection.transform_target(t).mean(axis=0), np.zeros(6), atol=1e-10)
    np.testing.assert_allclose(projection.source.mean, s.mean(axis=0))
    assert projection.source.whitener is None and projection.target.whitener is None


def test_without_preprocessing_the_target_side_is_untouched(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    s, t = pairs
    projection = procrustes(s, t)
    np.testing.assert_array_equal(projection.transform_target(t), t)


@pytest.mark.parametrize("options", PREPROCESSING, ids=["plain", "centre", "whiten", "centre+whiten"])
@pytest.mark.parametrize("method", METHODS)
def test_every_learner_with_every_preprocessing(
    method: str, options: dict[str, Any], pairs: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> None:
    s, t = pairs
    projection = _fit(method, s, t, **options)
    assert projection.method == method and projection.n_pairs == len(s) and np.isfinite(projection.fit_mse)
    assert projection.options["centre"] == bool(options), projection.options

    # the folded affine map reproduces the step-by-step one
    x = _correlated(7, 12, rng)
    matrix, offset = projection.affine()
    expected = projection.transform_source(x)
    assert expected.shape == (7, 12) and expected.dtype == np.float64
    np.testing.assert_allclose(x @ matrix + offset, expected, rtol=1e-5, atol=1e-5)

    # the reported error is the error in the comparison space
    mse = np.mean((projection.transform_source(s) - projection.transform_target(t)) ** 2)
    assert projection.fit_mse == pytest.approx(mse, rel=1e-9)


@pytest.mark.parametrize("options", PREPROCESSING, ids=["plain", "centre", "whiten", "centre+whiten"])
def test_affine_pairs_are_matched_exactly_in_the_comparison_space(
    options: dict[str, Any], rng: np.random.Generator
) -> None:
    """Pre-processing is affine, so an affine relation stays affine and least squares with a bias is exact."""
    s = _correlated(100, 8, rng)
    t = s @ rng.standard_normal((8, 8)) + rng.standard_normal(8)
    projection = least_squares(s, t, bias=True, **options)
    mapped, english = projection.transform_source(s), projection.transform_target(t)
    assert _relative(mapped, english) < 1e-6


def test_preprocessing_fit_statistics(rng: np.random.Generator) -> None:
    x = _correlated(400, 5, rng)
    assert Preprocessing.fit(x).steps() == []
    centred = Preprocessing.fit(x, centre=True)
    assert centred.whitener is None and centred.mean is not None
    whitened = Preprocessing.fit(x, whiten=True)
    assert whitened.whitener is not None
    # A = Σ^{-1/2} up to the ε regulariser: A Σ A = I
    covariance = np.cov(x, rowvar=False)
    np.testing.assert_allclose(whitened.whitener @ covariance @ whitened.whitener, np.eye(5), atol=1e-4)
    with pytest.raises(ValueError, match="read-only"):
        whitened.whitener[0, 0] = 1.0


def test_whitening_with_fewer_pairs_than_dimensions_warns(rng: np.random.Generator) -> None:
    with pytest.warns(UserWarning, match="singular"):
        procrustes(rng.standard_normal((5, 8)), rng.standard_normal((5, 8)), whiten=True)


# ---------------------------------------------------------------------------------- outputs and types


def test_transform_preserves_type_dtype_and_leading_shape(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    projection = procrustes(*pairs, whiten=True)
    x64 = pairs[0][:6]
    reference = projection.transform_source(x64)
    as32 = projection.transform_source(x64.astype(np.float32))
    assert as32.dtype == np.float32
    np.testing.assert_allclose(as32, reference, rtol=1e-4, atol=1e-4)
    single = projection.transform_source(x64[0])
    np.testing.assert_allclose(single, reference[0])
    batched = projection.transform_source(x64.reshape(2, 3, 12))
    np.testing.assert_allclose(batched.reshape(6, 12), reference)

    tensor = projection.transform_source(torch.from_numpy(x64))
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float64
    np.testing.assert_allclose(tensor.numpy(), reference, rtol=1e-12)
    tensor32 = projection.transform_target(torch.from_numpy(x64).float())
    assert isinstance(tensor32, torch.Tensor) and tensor32.dtype == torch.float32


def test_to_module_matches_transform_source(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    for options in PREPROCESSING:
        projection = least_squares(*pairs, bias=True, **options)
        module = projection.to_module()
        assert not any(p.requires_grad for p in module.parameters())
        x = pairs[0][:20]
        with torch.no_grad():
            out = module(torch.from_numpy(x).float())
        assert out.dtype == torch.float32
        expected = projection.transform_source(x)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    trainable = projection.to_module(dtype=torch.float64, trainable=True)
    assert all(p.requires_grad and p.dtype == torch.float64 for p in trainable.parameters())


# ----------------------------------------------------------------------------------------- persistence


@pytest.mark.parametrize("method", METHODS)
def test_save_load_round_trip(method: str, pairs: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    s, t = pairs
    projection = _fit(method, s, t, whiten=True)
    path = projection.save(tmp_path / "xx-en.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xx-en.safetensors"]  # no temporary file left
    loaded = Projection.load(path)
    assert loaded.method == projection.method and loaded.options == projection.options
    assert loaded.n_pairs == projection.n_pairs and loaded.fit_mse == projection.fit_mse
    np.testing.assert_array_equal(loaded.transform_source(s), projection.transform_source(s))
    np.testing.assert_array_equal(loaded.transform_target(t), projection.transform_target(t))

    plain = _fit(method, s, t)
    plain_loaded = Projection.load(plain.save(tmp_path / "plain.safetensors"))
    assert plain_loaded.source.mean is None and plain_loaded.target.whitener is None
    np.testing.assert_array_equal(plain_loaded.transform_source(s), plain.transform_source(s))


def test_load_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    with pytest.raises(DataError, match="does not exist"):
        Projection.load(tmp_path / "missing.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": np.eye(3)}, str(foreign))
    with pytest.raises(DataError, match="not an xlt projection"):
        Projection.load(foreign)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not safetensors")
    with pytest.raises(DataError, match="cannot read"):
        Projection.load(garbage)


def test_sentence_transformers_dense_export_matches(
    pairs: tuple[np.ndarray, np.ndarray], tmp_path: Path, rng: np.random.Generator
) -> None:
    pytest.importorskip("sentence_transformers")
    from sentence_transformers.base.modules.dense import Dense

    projection = gradient_descent(*pairs, whiten=True, **FAST_GD)
    directory = export_dense(projection, tmp_path / "2_Dense")
    config = json.loads((directory / "config.json").read_text())
    assert config["in_features"] == config["out_features"] == 12
    assert config["activation_function"] == "torch.nn.modules.linear.Identity"

    dense = Dense.load(str(directory))
    x = _correlated(16, 12, rng)
    with torch.no_grad():
        features = dense({"sentence_embedding": torch.from_numpy(x).float()})
    expected = projection.transform_source(x)
    out = features["sentence_embedding"].numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())

    # re-exporting replaces the directory atomically
    export_dense(projection, directory)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2_Dense"]


def test_dense_export_in_a_sentence_transformers_pipeline(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    """[Transformer, Pooling, exported Dense] = transform_source of the [Transformer, Pooling] embeddings."""
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Pooling, Transformer

    rng = np.random.default_rng(1)
    s = _correlated(200, 32, rng)
    projection = least_squares(s, s @ rng.standard_normal((32, 32)) + 1.0, bias=True, whiten=True)
    directory = export_dense(projection, tmp_path / "2_Dense")

    transformer = Transformer(str(tiny_encoder_dir))
    pooling = Pooling(32, "mean")
    texts = ["Der Hund schläft.", "Una frase corta.", "A slightly longer sentence about the weather."]
    pooled = SentenceTransformer(modules=[transformer, pooling], device="cpu").encode(texts)
    pipeline = SentenceTransformer(modules=[transformer, pooling, Dense.load(str(directory))], device="cpu")
    projected = pipeline.encode(texts)
    expected = projection.transform_source(pooled.astype(np.float64))
    np.testing.assert_allclose(projected, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


# ---------------------------------------------------------------------------------------- multilingual


def _languages(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {code: (_correlated(150, 6, rng), _correlated(150, 6, rng)) for code in ("de", "sw", "zh-Hans")}


def test_multi_projection_shares_english_statistics_and_round_trips(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    pairs = _languages(rng)
    multi = MultiProjection.fit(pairs, method="least_squares", whiten=True, bias=True)
    assert sorted(multi) == ["de", "sw", "zh-Hans"] and "de" in multi and len(multi) == 3
    assert multi.shares_target and multi["de"].options["target_statistics"] == "given"
    english = np.concatenate([t for _, t in pairs.values()])
    whitened = multi.transform_target(english)
    np.testing.assert_allclose(np.cov(whitened, rowvar=False), np.eye(6), atol=1e-4)

    directory = multi.save(tmp_path / "projections")
    assert sorted(p.name for p in directory.iterdir()) == [
        "de.safetensors",
        "index.json",
        "sw.safetensors",
        "zh-Hans.safetensors",
    ]
    loaded = MultiProjection.load(directory)
    assert loaded.target_language == "en" and sorted(loaded) == sorted(multi)
    for code, (s, _) in pairs.items():
        np.testing.assert_array_equal(loaded.transform_source(code, s), multi.transform_source(code, s))
    np.testing.assert_array_equal(loaded.transform_target(english), whitened)

    with pytest.raises(KeyError, match="did you mean 'de'"):
        multi["dee"]


def test_multi_projection_with_own_english_statistics(rng: np.random.Generator) -> None:
    multi = MultiProjection.fit(_languages(rng), method="procrustes", centre=True, shared_target=False)
    assert not multi.shares_target and multi["sw"].options["target_statistics"] == "fitting pairs"
    with pytest.raises(ValueError, match="language-specific English statistics"):
        multi.transform_target(np.zeros((2, 6)))
    # without pre-processing there are no statistics to share
    assert MultiProjection.fit(_languages(rng), shared_target=False).shares_target


def test_multi_projection_rejects_bad_input(rng: np.random.Generator, tmp_path: Path) -> None:
    projection = procrustes(rng.standard_normal((20, 4)), rng.standard_normal((20, 4)))
    with pytest.raises(ValueError, match="invalid language code"):
        MultiProjection({"../x": projection})
    other = procrustes(rng.standard_normal((20, 5)), rng.standard_normal((20, 5)))
    with pytest.raises(ValueError, match="same dimension"):
        MultiProjection({"de": projection, "fr": other})
    with pytest.raises(ValueError, match="no language pairs"):
        MultiProjection.fit({})
    with pytest.raises(DataError, match=r"index\.json"):
        MultiProjection.load(tmp_path)


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("method", METHODS)
def test_bad_input_raises_clear_errors(method: str, rng: np.random.Generator) -> None:
    s = rng.standard_normal((10, 4))
    with pytest.raises(ValueError, match="same number of parallel pairs"):
        _fit(method, s, rng.standard_normal((9, 4)))
    with pytest.raises(ValueError, match="same dimension d"):
        _fit(method, s, rng.standard_normal((10, 5)))
    with pytest.raises(ValueError, match=r"2-D array of shape \(n, d\)"):
        _fit(method, s[0], s[0])
    with pytest.raises(ValueError, match="at least one embedding"):
        _fit(method, s[:0], s[:0])
    with pytest.raises(ValueError, match="needs at least 2 embeddings"):
        _fit(method, s[:1], s[:1], whiten=True)
    bad = s.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        _fit(method, bad, s)
    with pytest.raises(ValueError, match="zero variance"):
        _fit(method, np.ones((10, 4)), s, whiten=True)
    with pytest.raises(ValueError, match="eps must be"):
        _fit(method, s, s, whiten=True, eps=0.0)
    projection = _fit(method, s, s)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4\)"):
        projection.transform_source(np.zeros((3, 5)))


def test_bad_options_raise_clear_errors(rng: np.random.Generator) -> None:
    s = rng.standard_normal((10, 4))
    with pytest.raises(ValueError, match="did you mean 'procrustes'"):
        fit_projection(s, s, "procrustus")
    with pytest.raises(ValueError, match="ridge must be"):
        least_squares(s, s, ridge=-1.0)
    with pytest.raises(ValueError, match="epochs must be"):
        gradient_descent(s, s, epochs=0)
    with pytest.raises(ValueError, match="lr must be"):
        gradient_descent(s, s, lr=0.0)
    with pytest.raises(ValueError, match="batch_size must be"):
        gradient_descent(s, s, batch_size=0)
    with pytest.raises(ValueError, match="does not match centre"):
        procrustes(s, s, centre=True, target_preprocessing=Preprocessing.fit(s, whiten=True))
    with pytest.raises(ValueError, match="square"):
        Projection(method="identity", weight=np.zeros((3, 4)), bias=np.zeros(3))


# ------------------------------------------------------------------------- language identity removal (LIR)


def _with_language_identity(rng: np.random.Generator, n: int = 300, d: int = 16) -> tuple[np.ndarray, ...]:
    """English meaning vectors E, and their "translations" X: the same meanings plus a language offset and a
    language direction of varying weight (what identity removal is meant to take away)."""
    meaning = rng.standard_normal((n, d))
    offset, direction = 3 * rng.standard_normal(d), rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    weight = 4 + rng.standard_normal((n, 1))
    return meaning + offset + weight * direction, meaning, direction


def test_identity_removal_centres_and_projects_out_the_leading_directions() -> None:
    rng = np.random.default_rng(0)
    x, _, direction = _with_language_identity(rng)
    pre = Preprocessing.identity_removal(x, rank=1)
    out = pre.apply(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    assert abs(float(np.mean(out @ direction))) < 1e-8  # the language direction is gone...
    assert np.linalg.matrix_rank(out) == x.shape[1] - 1  # ...and nothing else
    assert pre.whitener is not None
    np.testing.assert_allclose(pre.whitener @ pre.whitener, pre.whitener, atol=1e-10)  # a projector
    with pytest.raises(ValueError, match="rank"):
        Preprocessing.identity_removal(x, rank=0)


def test_lir_brings_translations_together_without_training() -> None:
    rng = np.random.default_rng(1)
    x, english, _ = _with_language_identity(rng)

    def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        return float(np.mean(np.sum(a * b, axis=1)))

    projection = fit_projection(x, english, "lir", rank=1)
    before = mean_cosine(x, english)
    after = mean_cosine(projection.transform_source(x), projection.transform_target(english))
    assert before < 0.5 < 0.85 < after
    np.testing.assert_array_equal(projection.weight, np.eye(x.shape[1]))  # no map is learnt


def test_lir_shares_the_english_side_and_survives_a_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    pairs = {code: _with_language_identity(rng)[:2] for code in ("de", "sw")}
    multi = MultiProjection.fit(pairs, method="lir", rank=2)
    assert multi.shares_target and multi["de"].options["rank"] == 2
    english = pairs["de"][1]
    np.testing.assert_allclose(multi["de"].transform_target(english), multi["sw"].transform_target(english))
    loaded = MultiProjection.load(multi.save(tmp_path / "lir"))
    np.testing.assert_allclose(
        loaded.transform_source("sw", pairs["sw"][0]), multi.transform_source("sw", pairs["sw"][0])
    )
