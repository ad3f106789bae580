"""`xlt data fetch`: pinned files from a local HTTP upstream, verified by sha256, written atomically."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.core.errors import ConfigError, DataError
from xlt.core.io import sha256_file
from xlt.tasks import get_task
from xlt.tasks.fetch import DATA_URL_ENV, datasets_for_tasks, fetch_datasets, pinned_datasets

runner = CliRunner()
SERVED = ("copa_en", "xcopa")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        QuietHandler.requests.append(self.path)


@pytest.fixture
def upstream(tmp_path: Path, data_dir: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server laid out as `{repo}/{commit}/{upstream path}` holding the mirror's copa_en and xcopa
    files; yields the URL template and the served root."""
    root = tmp_path / "upstream"
    for name in SERVED:
        dataset = pinned_datasets()[name]
        for path in dataset.files:
            target = root / dataset.upstream_repo / dataset.commit / dataset.upstream_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_dir / path, target)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    QuietHandler.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{repo}}/{{commit}}/{{path}}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def served_file(root: Path, name: str, path: str) -> Path:
    dataset = pinned_datasets()[name]
    return root / dataset.upstream_repo / dataset.commit / dataset.upstream_path(path)


def test_fetch_into_an_empty_dir_gives_the_pinned_bytes_and_a_second_fetch_downloads_nothing(
    tmp_path: Path, data_dir: Path, upstream: tuple[str, Path]
) -> None:
    template, _ = upstream
    target = tmp_path / "fetched"
    seen: list[str] = []
    report = fetch_datasets(
        list(SERVED), target, url_template=template, progress=lambda o: seen.append(o.path)
    )
    pinned = {path: sha for name in SERVED for path, sha in pinned_datasets()[name].files.items()}
    assert report.fetched == len(pinned) == len(seen) and report.present == 0
    assert report.bytes_fetched == sum((data_dir / path).stat().st_size for path in pinned)
    for path, sha in pinned.items():
        assert sha256_file(target / path) == sha
        assert (target / path).read_bytes() == (data_dir / path).read_bytes()
    assert not [p for p in target.rglob("*.tmp")]
    manifest = json.loads((target / "MANIFEST.json").read_text())
    assert [d["dir"] for d in manifest["datasets"]] == list(SERVED)
    assert {p["local_path"] for d in manifest["datasets"] for p in d["paths"]} == set(pinned)

    QuietHandler.requests.clear()
    again = fetch_datasets(list(SERVED), target, url_template=template)
    assert again.fetched == 0 and again.present == len(pinned) and again.bytes_fetched == 0
    assert QuietHandler.requests == []


def test_a_tampered_download_is_refused_and_nothing_is_written(
    tmp_path: Path, upstream: tuple[str, Path]
) -> None:
    template, root = upstream
    path = "copa_en/data/xcopa/train-en.jsonl"
    served = served_file(root, "copa_en", path)
    served.write_bytes(served.read_bytes().replace(b"a", b"b", 1))
    target = tmp_path / "fetched"
    with pytest.raises(DataError) as raised:
        fetch_datasets(["copa_en"], target, url_template=template)
    message = str(raised.value)
    expected = pinned_datasets()["copa_en"].files[path]
    assert path in message and expected[:12] in message and sha256_file(served)[:12] in message
    assert "/data/xcopa/train-en.jsonl" in message and "127.0.0.1" in message
    assert not (target / "copa_en").exists()  # no partial file, no temporary file, no empty directory

    # a wrong local file is not replaced by wrong downloaded bytes either
    (target / path).parent.mkdir(parents=True)
    (target / path).write_bytes(b"stale")
    with pytest.raises(DataError):
        fetch_datasets(["copa_en"], target, url_template=template)
    assert (target / path).read_bytes() == b"stale"
    assert [p.name for p in (target / path).parent.iterdir()] == ["train-en.jsonl"]


def test_an_existing_good_file_is_kept_when_the_source_is_altered(
    tmp_path: Path, data_dir: Path, upstream: tuple[str, Path]
) -> None:
    template, root = upstream
    target = tmp_path / "fetched"
    fetch_datasets(["copa_en"], target, url_template=template)
    path = "copa_en/data/xcopa/val-en.jsonl"
    served_file(root, "copa_en", path).write_bytes(b"altered upstream\n")
    report = fetch_datasets(["copa_en"], target, url_template=template)
    assert report.fetched == 0
    assert (target / path).read_bytes() == (data_dir / path).read_bytes()


def test_a_missing_source_file_is_a_data_error_naming_the_url(
    tmp_path: Path, upstream: tuple[str, Path]
) -> None:
    template, root = upstream
    served_file(root, "copa_en", "copa_en/data/xcopa/val-en.jsonl").unlink()
    with pytest.raises(
        DataError, match=r"cannot download http://127\.0\.0\.1.*val-en\.jsonl.*404.*XLT_DATA_URL"
    ):
        fetch_datasets(["copa_en"], tmp_path / "fetched", url_template=template)


def test_unknown_dataset_is_a_config_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown dataset 'xcopaa' \(did you mean 'xcopa'\?\).*copa_en"):
        fetch_datasets(["xcopaa"], tmp_path, url_template="http://127.0.0.1:9/{repo}/{commit}/{path}")


def test_a_fetched_directory_serves_as_the_data_dir(tmp_path: Path, upstream: tuple[str, Path]) -> None:
    template, _ = upstream
    target = tmp_path / "fetched"
    fetch_datasets(datasets_for_tasks(["xcopa"]), target, url_template=template)
    task = get_task("xcopa")
    assert len(task.load(target, "test", "sw")) == 500
    assert len(task.load(target, "train", "en")) == 400


def test_datasets_for_tasks() -> None:
    assert datasets_for_tasks(["xcopa"]) == ["copa_en", "xcopa"]
    assert datasets_for_tasks(["copa"]) == ["copa_en"]
    assert datasets_for_tasks(["semrel", "semrel-eng"]) == ["semrel2024"]
    assert "ud/UD_English-LinES" in datasets_for_tasks(["udpos"])
    assert datasets_for_tasks(["panx", "panx-en"]) == ["panx"]
    assert datasets_for_tasks(["tydiqa"]) == ["tydiqa_goldp", "tydiqa_goldp_xtreme"]
    # fetching a dataset fetches all its pins: MLQA's 42 cross-language files come with its test files
    assert datasets_for_tasks(["mlqa"]) == ["mlqa", "tydiqa_goldp_xtreme"]


def test_every_pin_is_the_mirrors_file_at_its_upstream_path(data_dir: Path) -> None:
    """sources.json is the mirror's MANIFEST.json: each pinned file has the manifest's sha256, and the URL
    `xlt data fetch` builds names the manifest's upstream path at the manifest's repository and commit."""
    manifest = json.loads((data_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    entries = {d["dir"]: d for d in manifest["datasets"]}
    for name, dataset in pinned_datasets().items():
        entry = entries[name]
        assert (dataset.upstream_repo, dataset.commit) == (entry["upstream_repo"], entry["commit"]), name
        files = {p["local_path"]: p for p in entry["paths"]}
        for path, sha256 in dataset.files.items():
            assert files[path]["sha256"] == sha256, path
            assert dataset.upstream_path(path) == files[path]["path"], path
    # the XTREME-R additions: every PAN-X file, the labelled TyDiQA-GoldP dev files, all 49 MLQA dev files
    counts = {name: len(pinned_datasets()[name].files) for name in ("panx", "tydiqa_goldp", "mlqa")}
    assert counts == {"panx": 58, "tydiqa_goldp": 9, "mlqa": 49 + 1}  # MLQA's licence file too


def test_cli_fetch_and_list(
    tmp_path: Path, upstream: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    template, _ = upstream
    monkeypatch.setenv(DATA_URL_ENV, template)
    target = tmp_path / "cli" / "data"
    result = runner.invoke(app, ["data", "fetch", "copa_en", "--data-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "copa_en" in result.output and "2 file(s) fetched" in result.output
    assert (
        sha256_file(target / "copa_en/data/xcopa/val-en.jsonl")
        == pinned_datasets()["copa_en"].files["copa_en/data/xcopa/val-en.jsonl"]
    )
    result = runner.invoke(app, ["data", "fetch", "--tasks", "xcopa", "--data-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "43 file(s) fetched" in result.output and "2 already present" in result.output

    study = tmp_path / "study.yaml"
    study.write_text("name: s\ntargets: [xcopa]\nevaluation: {tatoeba: {enabled: false}}\n")
    result = runner.invoke(app, ["data", "fetch", "--study", str(study), "--data-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "0 file(s) fetched" in result.output and "45 already present" in result.output

    result = runner.invoke(app, ["data", "fetch", "xcopaa", "--data-dir", str(target)])
    assert isinstance(result.exception, ConfigError) and "did you mean 'xcopa'" in str(result.exception)

    listing = runner.invoke(app, ["data", "list"])
    assert listing.exit_code == 0 and "wuhjie/few_shots_that_matters_wu" in listing.output
