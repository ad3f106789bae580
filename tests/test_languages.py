"""Language groups of the gains table and the pre-training sizes behind low/high-resource."""

from __future__ import annotations

from xlt.analysis.languages import canonical, language_groups, pretraining_gib


def test_codes_of_different_tasks_meet_in_one_canonical_code() -> None:
    assert canonical("swh") == canonical("sw") == canonical("swa") == "sw"
    assert canonical("cmn") == canonical("zh") == "zh"
    assert canonical("kin") == "rw" and canonical("deu") == "de" and canonical("arb") == "ar"
    assert canonical("arq") == "arq"  # no 639-1 code: stays as it is


def test_sizes_come_from_cc100_and_absent_languages_are_zero() -> None:
    assert pretraining_gib("deu") == 66.6 and pretraining_gib("hau") == 0.3 and pretraining_gib("sw") == 1.6
    assert pretraining_gib("yor") == 0.0 and pretraining_gib("kin") == 0.0


def test_groups_of_semrel_languages() -> None:
    langs = ["amh", "arq", "ary", "eng", "hau", "kin", "mar", "tel", "afr", "arb", "hin", "ind", "pan"]
    groups = {g.name: g.members for g in language_groups(langs)}
    assert groups["African"] == ("amh", "arq", "ary", "hau", "kin", "afr")
    assert groups["high-resource"] == ("arb", "hin", "ind")  # 28.0, 20.2, 148.3 GiB
    assert "eng" not in groups["low-resource"] and "eng" not in groups["non-English"]
    assert set(groups["low-resource"]) | set(groups["high-resource"]) == set(groups["non-English"])
    # the threshold is a setting
    lower = {g.name: g.members for g in language_groups(langs, high_resource_gib=2.0)}
    assert lower["high-resource"] == ("mar", "tel", "arb", "hin", "ind")


def test_xtreme_r_group_only_when_asked_and_empty_groups_dropped() -> None:
    assert "XTREME-R" not in {g.name for g in language_groups(["deu", "swh"])}
    groups = {g.name: g.members for g in language_groups(["deu", "swh", "kab"], xtreme_r=True)}
    assert groups["XTREME-R"] == ("deu", "swh")
    assert {g.name for g in language_groups(["deu", "fra"])} == {"non-English", "high-resource"}


def test_lang2vec_is_found_even_beside_its_own_script(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the lang2vec wheel installs bin/lang2vec.py; under the `xlt` console script bin/ is sys.path[0]
    import pytest

    pytest.importorskip("lang2vec")
    import sys

    from xlt.analysis import typology

    (tmp_path / "lang2vec.py").write_text("raise FileNotFoundError('the script, not the package')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lang2vec", raising=False)
    monkeypatch.delitem(sys.modules, "lang2vec.lang2vec", raising=False)
    typology._lang2vec.cache_clear()
    typology.distance_to_english.cache_clear()
    try:
        assert hasattr(typology._lang2vec(), "get_features")
        assert 0 < (typology.distance_to_english("sw") or 0) < 1
        assert str(tmp_path) in sys.path  # sys.path is given back
    finally:
        typology._lang2vec.cache_clear()
        typology.distance_to_english.cache_clear()
