"""Download the pinned benchmark files from their canonical public sources (`xlt data fetch`).

Every file a task reads is pinned in `xlt/tasks/sources.json` to an upstream repository, a commit and the
sha256 of its bytes. A data directory is laid out as `<dir>/<upstream path>`, where `<dir>` is the key of
the dataset in sources.json (e.g. `copa_en`, `ud/UD_English-LinES`). A file is downloaded into a temporary
file, checked against its sha256 and only then renamed into place, so an interrupted or altered download
never leaves a partial or wrong file behind; files already present with the right bytes are not fetched
again.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlt.core.errors import ConfigError, DataError, did_you_mean
from xlt.core.io import atomic_path, atomic_write_json, sha256_file
from xlt.core.settings import DATA_DIR_ENV, resolve_data_dir
from xlt.tasks.spec import pinned_sources

DATA_URL_ENV = "XLT_DATA_URL"
DEFAULT_URL_TEMPLATE = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
TIMEOUT_SECONDS = 60
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_MARKER = "xlt data fetch"
_CHUNK = 1 << 20
_NETWORK_FIX = f"check the network or set {DATA_URL_ENV} to a mirror"


@dataclass(frozen=True)
class PinnedDataset:
    """One dataset of sources.json: `name` is its directory in the data dir (the sources.json key)."""

    name: str
    dataset: str
    upstream_repo: str
    commit: str
    license: str
    files: dict[str, str]  # data-dir-relative path -> sha256

    def upstream_path(self, path: str) -> str:
        """The path of a data-dir file inside the upstream repository."""
        return path.removeprefix(f"{self.name}/")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one pinned file: downloaded (`fetched`) or already present with the right bytes."""

    dataset: str
    path: str
    url: str
    size: int
    fetched: bool


@dataclass
class DatasetReport:
    name: str
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return sum(1 for f in self.files if f.fetched)

    @property
    def present(self) -> int:
        return sum(1 for f in self.files if not f.fetched)

    @property
    def bytes_fetched(self) -> int:
        return sum(f.size for f in self.files if f.fetched)

    @property
    def bytes_total(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class FetchReport:
    data_dir: Path
    datasets: list[DatasetReport] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return sum(d.fetched for d in self.datasets)

    @property
    def present(self) -> int:
        return sum(d.present for d in self.datasets)

    @property
    def bytes_fetched(self) -> int:
        return sum(d.bytes_fetched for d in self.datasets)


Progress = Callable[[FileOutcome], None]


def pinned_datasets() -> dict[str, PinnedDataset]:
    """Every dataset of sources.json, by its directory name."""
    return {
        name: PinnedDataset(
            name=name,
            dataset=meta["dataset"],
            upstream_repo=meta["upstream_repo"],
            commit=meta["commit"],
            license=meta["license"],
            files=dict(meta["files"]),
        )
        for name, meta in sorted(pinned_sources().items())
    }


def resolve_dataset_names(names: Iterable[str]) -> list[str]:
    """Directory names of the given datasets (a manifest dataset name such as `tatoeba_laser` works too);
    unknown names are a ConfigError with a did-you-mean."""
    datasets = pinned_datasets()
    aliases = {d.dataset: d.name for d in datasets.values()}
    chosen: list[str] = []
    for raw in names:
        name = raw.strip().rstrip("/")
        resolved = name if name in datasets else aliases.get(name)
        if resolved is None:
            raise ConfigError(
                f"unknown dataset '{name}'{did_you_mean(name, list(datasets) + list(aliases))}",
                f"choose from: {', '.join(datasets)} (`xlt data list`)",
            )
        if resolved not in chosen:
            chosen.append(resolved)
    return chosen


def datasets_for_tasks(task_names: Iterable[str]) -> list[str]:
    """The datasets whose pinned files the given tasks read, over every split and language."""
    from xlt.tasks import get_task

    owner = {path: d.name for d in pinned_datasets().values() for path in d.files}
    found: set[str] = set()
    for name in task_names:
        task = get_task(name)
        for split, languages in task.languages.items():
            for language in languages:
                found.update(owner[f.path] for f in task.layout(split, language) if f.path in owner)
    return sorted(found)


def url_template_from_env() -> str:
    return os.environ.get(DATA_URL_ENV) or DEFAULT_URL_TEMPLATE


def file_url(template: str, dataset: PinnedDataset, path: str) -> str:
    """The URL of one pinned file; the upstream path is percent-encoded (SemRel has `Track A/...`)."""
    upstream = urllib.parse.quote(dataset.upstream_path(path), safe="/")
    try:
        return template.format(repo=dataset.upstream_repo, commit=dataset.commit, path=upstream)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"data URL template '{template}' is not valid ({exc!r})",
            f"set {DATA_URL_ENV} to a template with the placeholders {{repo}}, {{commit}} and {{path}}",
        ) from None


def prepare_data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory to fetch into (--data-dir, else $XLT_DATA_DIR), created if it is missing."""
    raw = explicit if explicit is not None else os.environ.get(DATA_DIR_ENV)
    if raw:
        Path(raw).expanduser().mkdir(parents=True, exist_ok=True)
    return resolve_data_dir(explicit)


def fetch_datasets(
    names: list[str] | None,
    data_dir: Path,
    *,
    url_template: str | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """Download every pinned file of the named datasets (None = all) into `data_dir`, verified by sha256.

    Files already present with the right sha256 are skipped. A download whose bytes differ from the pin is
    a DataError and leaves nothing at the destination (an existing file there is left as it was)."""
    datasets = pinned_datasets()
    chosen = resolve_dataset_names(names) if names is not None else list(datasets)
    template = url_template or url_template_from_env()
    if "{path}" not in template:
        raise ConfigError(
            f"data URL template '{template}' has no {{path}} placeholder",
            f"set {DATA_URL_ENV} like {DEFAULT_URL_TEMPLATE}",
        )
    for name in chosen:  # a bad template fails before anything is downloaded
        file_url(template, datasets[name], next(iter(datasets[name].files), ""))
    data_dir = Path(data_dir)
    report = FetchReport(data_dir)
    try:
        for name in chosen:
            dataset = datasets[name]
            result = DatasetReport(name)
            for path, sha256 in sorted(dataset.files.items()):
                url = file_url(template, dataset, path)
                outcome = _fetch_file(dataset, path, sha256, url, data_dir)
                result.files.append(outcome)
                if progress is not None:
                    progress(outcome)
            report.datasets.append(result)
    finally:
        if report.datasets:
            _record_manifest(data_dir, [datasets[d.name] for d in report.datasets], report.datasets)
    return report


def _fetch_file(dataset: PinnedDataset, path: str, sha256: str, url: str, data_dir: Path) -> FileOutcome:
    destination = data_dir / path
    if destination.is_file() and sha256_file(destination) == sha256:
        return FileOutcome(dataset.name, path, url, destination.stat().st_size, fetched=False)
    created = [p for p in destination.parents if p != data_dir and data_dir in p.parents and not p.exists()]
    try:
        size = download_verified(url, destination, sha256)
    except BaseException:
        for directory in created:  # innermost first: leave no empty directories behind
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise
    return FileOutcome(dataset.name, path, url, size, fetched=True)


def download_verified(url: str, destination: Path, sha256: str) -> int:
    """Download `url` to `destination` through a temporary file, renamed into place only when its sha256
    is `sha256`. Returns the number of bytes."""
    digest = hashlib.sha256()
    size = 0
    with atomic_path(destination) as tmp:
        try:
            response = urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)
        except ValueError as exc:  # not a URL urllib can open
            raise ConfigError(
                f"cannot download {url} ({exc})", f"set {DATA_URL_ENV} to an http(s) or file URL template"
            ) from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError and timeouts included
            raise DataError(f"cannot download {url} ({_reason(exc)})", _NETWORK_FIX) from None
        with response, open(tmp, "wb") as handle:
            while True:
                try:
                    block = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise DataError(f"download of {url} broke off ({_reason(exc)})", _NETWORK_FIX) from None
                if not block:
                    break
                digest.update(block)
                handle.write(block)
                size += len(block)
            handle.flush()
            os.fsync(handle.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise DataError(
                f"{destination}: the downloaded file has sha256 {got[:12]}..., expected {sha256[:12]}... "
                f"(from {url}); nothing was written",
                f"the source does not serve the pinned bytes: {_NETWORK_FIX} that serves the pinned commit",
            )
    return size


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _record_manifest(data_dir: Path, datasets: list[PinnedDataset], reports: list[DatasetReport]) -> None:
    """List what was fetched in `data_dir/MANIFEST.json` (the mirror's schema, fewer fields), so that a
    fetched directory is recognised like the mirror. A MANIFEST.json that `xlt data fetch` did not write
    (the mirror's own) is left alone; one it wrote is updated."""
    path = data_dir / MANIFEST_NAME
    existing: dict[str, Any] | None = None
    if path.exists():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(existing, dict) or existing.get("generated_by") != MANIFEST_MARKER:
            return
    previous = (existing or {}).get("datasets", [])
    entries = {e["dir"]: e for e in previous if isinstance(e, dict) and "dir" in e}
    for dataset, report in zip(datasets, reports, strict=True):
        sizes = {f.path: f.size for f in report.files}
        entries[dataset.name] = {
            "dataset": dataset.dataset,
            "dir": dataset.name,
            "upstream_repo": dataset.upstream_repo,
            "commit": dataset.commit,
            "license": dataset.license,
            "files": len(report.files),
            "total_bytes": report.bytes_total,
            "paths": [
                {
                    "path": dataset.upstream_path(p),
                    "local_path": p,
                    "bytes": sizes[p],
                    "sha256": dataset.files[p],
                }
                for p in sorted(sizes)
            ],
        }
    document = {
        "description": "Benchmark files fetched by `xlt data fetch` from their upstream repositories at "
        "pinned commits, verified by sha256. Paths: <dir>/<upstream path>.",
        "generated_by": MANIFEST_MARKER,
        "total_bytes": sum(e["total_bytes"] for e in entries.values()),
        "datasets": [entries[name] for name in sorted(entries)],
    }
    if document != existing:
        atomic_write_json(path, document)
