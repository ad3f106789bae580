import numpy as np
import pytest
from datasets import Dataset

from xlt.core.errors import ConfigError
from xlt.core.sampling import subset_indices, subset_items, subset_rows


def test_subset_is_the_documented_draw_in_file_order() -> None:
    # cached results (similarity vectors, evaluation predictions) are keyed by (n, size, seed): the draw
    # must stay numpy's default_rng(seed).choice without replacement, sorted
    expected = np.sort(np.random.default_rng(3).choice(50, size=7, replace=False))
    got = subset_indices(50, 7, 3)
    assert got.tolist() == expected.tolist() and len(set(got.tolist())) == 7
    assert subset_indices(50, 7, 4).tolist() != got.tolist()


def test_everything_when_the_limit_is_none_or_large() -> None:
    assert subset_indices(5, None).tolist() == [0, 1, 2, 3, 4] == subset_indices(5, 9).tolist()
    rows = Dataset.from_dict({"x": list(range(5))})
    assert subset_rows(rows, 5) is rows


def test_rows_and_items_agree() -> None:
    items = [f"s{i}" for i in range(40)]
    rows = Dataset.from_dict({"x": items})
    assert list(subset_rows(rows, 6, [1, 7])["x"]) == subset_items(items, 6, [1, 7])


def test_a_size_below_one_is_an_error() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        subset_indices(10, 0)
