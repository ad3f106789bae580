"""The catalogue of bad inputs a hostile new user brings: each is caught before any stage starts (or, for a
damaged study directory, before anything is read from it) and ends in one line on stderr naming the problem
and its fix, with exit code 2 and no traceback; and the valid inputs that used to be refused."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from xlt.cli.main import main
from xlt.core.io import commit_files
from xlt.tasks.validate import validate_task

LABELS = "[entailment, neutral, contradiction]"
PAIRS = [
    ("A man is playing a guitar.", "Someone is making music.", "entailment"),
    ("A man is playing a guitar.", "The man is asleep.", "contradiction"),
    ("A man is playing a guitar.", "The man is a famous singer.", "neutral"),
    ("Two dogs run on the beach.", "Animals are outside.", "entailment"),
    ("Two dogs run on the beach.", "The dogs are sleeping indoors.", "contradiction"),
    ("Two dogs run on the beach.", "The dogs belong to one family.", "neutral"),
]
OTHER_PAIRS = [
    ("A woman reads a book.", "Someone is reading.", "entailment"),
    ("A woman reads a book.", "The woman is swimming.", "contradiction"),
    ("A woman reads a book.", "The book is a novel.", "neutral"),
]


def csv_text(rows: list[tuple[str, ...]], header: str = "sentence1,sentence2,label") -> str:
    return header + "\n" + "".join(",".join(row) + "\n" for row in rows)


def task_yaml(*, test: str = "{de: test.csv}", extra: str = "") -> str:
    return (
        "name: toy-nli\ntype: pair_classification\n"
        f"labels: {LABELS}\n{extra}"
        f"files:\n  train: {{en: train.csv}}\n  dev: {{en: dev.csv}}\n  test: {test}\n"
    )


def write_task(directory: Path, yaml_text: str, **files: str) -> Path:
    """A toy NLI task file with good train/dev/test files unless `files` replaces one."""
    contents = {
        "train.csv": csv_text(PAIRS * 2),
        "dev.csv": csv_text(OTHER_PAIRS),
        "test.csv": csv_text(PAIRS),
        **{name.replace("_", "."): text for name, text in files.items()},
    }
    for name, text in contents.items():
        (directory / name).write_text(text, encoding="utf-8")
    path = directory / "toy-nli.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return path


def study(
    directory: Path,
    encoder: Path,
    target: str = "semrel",
    evaluation: str = "{max_examples: 8, bootstrap: 20, tatoeba: {enabled: false}}",
) -> Path:
    lines = [
        "name: bad",
        f"encoders: ['{encoder}']",
        "seeds: [1]",
        f"targets: ['{target}']",
        "training:",
        "  target: {max_steps: 2, batch_size: 4, train_limit: 16, dev_limit: 8, evaluations: 1}",
        f"evaluation: {evaluation}",
        f"output_dir: '{directory / 'runs'}'",
    ]
    path = directory / "study.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def semrel_study(directory: Path, encoder: Path) -> Path:
    evaluation = "{languages: [eng, hau], max_examples: 8, bootstrap: 20, tatoeba: {enabled: false}}"
    return study(directory, encoder, evaluation=evaluation)


def damaged_data(directory: Path, data_dir: Path) -> Path:
    """A data directory like the mirror, but with SemRel's Hausa test file altered and its English training
    file gone."""
    data = directory / "data"
    data.mkdir()
    for entry in data_dir.iterdir():
        if entry.name != "semrel2024":
            (data / entry.name).symlink_to(entry)
    shutil.copytree(data_dir / "semrel2024", data / "semrel2024")
    with open(data / "semrel2024/Track A/hau/hau_test_with_labels.csv", "a", encoding="utf-8") as handle:
        handle.write("an added row,0.5\n")
    (data / "semrel2024/Track A/eng/eng_train.csv").unlink()
    return data


@dataclass
class Case:
    """A bad input: the command it is given to and what its one line must say."""

    args: Callable[[Path, Path, Path], list[str]]
    says: list[str]
    # False where the command's --output is itself the bad input
    nothing_written: bool = True


def run_task(yaml_text: str = "", **files: str) -> Callable[[Path, Path, Path], list[str]]:
    def args(tmp: Path, data: Path, encoder: Path) -> list[str]:
        task = write_task(tmp, yaml_text or task_yaml(), **files)
        return ["run", str(study(tmp, encoder, str(task))), "--data-dir", str(data)]

    return args


def run_semrel(*options: str) -> Callable[[Path, Path, Path], list[str]]:
    def args(tmp: Path, data: Path, encoder: Path) -> list[str]:
        return ["run", str(semrel_study(tmp, encoder)), "--data-dir", str(data), *options]

    return args


def validate_file(yaml_text: str, **files: str) -> Callable[[Path, Path, Path], list[str]]:
    def args(tmp: Path, data: Path, encoder: Path) -> list[str]:
        return ["validate", str(write_task(tmp, yaml_text, **files))]

    return args


def run_damaged_data(tmp: Path, data: Path, encoder: Path) -> list[str]:
    return ["run", str(semrel_study(tmp, encoder)), "--data-dir", str(damaged_data(tmp, data))]


CASES: dict[str, Case] = {
    "duplicate targets": Case(
        run_semrel("--set", "targets=[semrel,semrel]"),
        ["targets: semrel listed more than once", "fix the study"],
    ),
    "duplicate seeds": Case(run_semrel("--set", "seeds=[1,1]"), ["seeds: 1 listed more than once"]),
    "duplicate languages": Case(
        run_semrel("--set", "evaluation.languages=[eng,eng]"),
        ["evaluation.languages: eng listed more than once"],
    ),
    "malformed --set": Case(
        run_semrel("--set", "seeds=[1,"), ["'seeds=[1,'", "not valid YAML", "close every bracket"]
    ),
    "unknown language in a task file": Case(
        run_task(task_yaml(test="{de: test.csv, xq: test.csv}")),
        ["toy-nli.yaml:7: unknown language code 'xq'", "ISO 639-3", "xlt validate"],
    ),
    "pinned file changed and another missing": Case(
        run_damaged_data,
        [
            "2 problems found before any stage ran",
            "eng_train.csv: file not found",
            "hau_test_with_labels.csv: content differs from the pinned upstream file",
            "restore",
        ],
    ),
    "bad column": Case(
        run_task(task_yaml(extra="columns: {label: gold}\n")),
        ["train.csv:1: no column 'gold' for label in the header [sentence1, sentence2, label]"],
    ),
    "unknown label (brackets kept)": Case(
        run_task(train_csv=csv_text([*PAIRS, ("A cat.", "An animal.", "maybe")])),
        [f"train.csv:8: label 'maybe' not in {LABELS}", "fix the task file"],
    ),
    "empty split": Case(run_task(test_csv=csv_text([])), ["test.csv: no examples"]),
    "truncated row": Case(
        run_task(test_csv=csv_text([*PAIRS, ("A man is playing a guitar.",)])),
        ["test.csv:8: expected 3 fields as in the header, found 1"],
    ),
    "misaligned line files": Case(
        run_task(
            task_yaml(test="{de: {path: text.txt, partners: [labels.txt]}}")
            .replace("pair_classification", "single_classification")
            .replace("train: {en: train.csv}", "train: {en: {path: text.txt, partners: [labels.txt]}}")
            .replace("dev: {en: dev.csv}", "dev: {en: {path: text.txt, partners: [labels.txt]}}"),
            text_txt="one\ntwo\nthree\n",
            labels_txt="entailment\nneutral\n",
        ),
        ["line-aligned files differ in length: text.txt 3 lines, labels.txt 2 lines"],
    ),
    "unknown metric (run)": Case(
        run_task(task_yaml(extra="metric: acuracy\n")), ["metric: 'acuracy'", "did you mean 'accuracy'"]
    ),
    "unknown metric (validate)": Case(
        validate_file(task_yaml(extra="metric: acuracy\n")), ["metric: 'acuracy'", "did you mean 'accuracy'"]
    ),
    "output is a file": Case(
        lambda tmp, data, encoder: [*run_semrel()(tmp, data, encoder), "--output", str(tmp / "study.yaml")],
        ["is a file", "give --output a directory"],
        nothing_written=False,
    ),
    "output not writable": Case(
        lambda tmp, data, encoder: [*run_semrel()(tmp, data, encoder), "--output", "/proc/xlt-nowhere/study"],
        ["study directory /proc/xlt-nowhere/study cannot be written", "give --output a directory"],
        nothing_written=False,
    ),
    "local encoder directory missing": Case(
        run_semrel("--set", "encoders=[./no-such-model]"),
        ["encoder directory", "no-such-model does not exist", "Hugging Face id"],
    ),
}


def xlt(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the console script's entry point in this process: (exit code, stdout, stderr)."""
    argv = sys.argv
    sys.argv = ["xlt", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_before_anything_runs(
    name: str,
    tmp_path: Path,
    data_dir: Path,
    tiny_encoder_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    code, _, err = xlt(capsys, *case.args(tmp_path, data_dir, tiny_encoder_dir))
    line = one_line(err)
    assert code == 2
    for fragment in case.says:
        assert fragment in line, line
    if case.nothing_written:
        assert not (tmp_path / "runs").exists()  # no study directory: nothing trained, nothing recorded


def test_same_file_as_train_and_dev_is_a_warning(tmp_path: Path) -> None:
    task = write_task(tmp_path, task_yaml().replace("dev: {en: dev.csv}", "dev: {en: train.csv}"))
    report = validate_task(str(task), None)
    assert report.ok
    (warning,) = report.warnings
    assert "dev and train share 12 of 12 en items: model selection would be done on training items" in (
        warning.message
    )


def test_iso_639_3_codes_of_real_languages_are_accepted(tmp_path: Path) -> None:
    codes = ["bzd", "cni", "hch", "quy", "shp", "tar"]  # AmericasNLI
    test = "{" + ", ".join(f"{code}: test.csv" for code in codes) + "}"
    report = validate_task(str(write_task(tmp_path, task_yaml(test=test))), None)
    assert report.ok, [p.message for p in report.problems]
    assert sorted(language for split, language in report.counts if split == "test") == sorted(codes)


def test_line_aligned_text_and_label_files_load(tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("I love it\nwhat a bad day\n", encoding="utf-8")
    (tmp_path / "labels.txt").write_text("1\n0\n", encoding="utf-8")
    (tmp_path / "tweets.yaml").write_text(
        "name: tweets\ntype: single_classification\nlabels: [negative, positive]\n"
        "files:\n  train: {en: {path: text.txt, partners: [labels.txt]}}\n"
        "  dev: {en: {path: text.txt, partners: [labels.txt]}}\n"
        "  test: {es: {path: text.txt, partners: [labels.txt]}}\n",
        encoding="utf-8",
    )
    from xlt.tasks import get_task

    rows = get_task(str(tmp_path / "tweets.yaml")).load(tmp_path, "test", "es")
    assert rows["text"] == ["I love it", "what a bad day"] and rows["label"] == [1, 0]


def test_full_disk_while_recording_the_study_changes_nothing(
    tmp_path: Path,
    data_dir: Path,
    tiny_encoder_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "runs" / "bad"
    root.mkdir(parents=True)
    before = {
        "study.json": json.dumps({"config_hash": "0ld", "config": {}}),
        "results.csv": "old scores\n",
        "results.json": "{}\n",
        "gains.csv": "old gains\n",
    }
    for name, text in before.items():
        (root / name).write_text(text)

    def full(path: Path, config: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("xlt.study.records.write_study_record", full)
    code, _, err = xlt(capsys, *run_semrel()(tmp_path, data_dir, tiny_encoder_dir))
    line = one_line(err)
    assert code == 2 and "No space left on device" in line and "free space" in line
    assert {p.name: p.read_text() for p in root.iterdir() if p.is_file() and p.name != ".lock"} == before


def test_a_failed_commit_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("old a")

    def fail(path: Path) -> None:
        path.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        commit_files(tmp_path, {"a.csv": lambda path: path.write_text("new a"), "b.csv": fail})
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"] and (tmp_path / "a.csv").read_text() == "old a"


def test_report_of_a_study_without_intermediates_says_so(
    tmp_path: Path,
    data_dir: Path,
    tiny_encoder_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = xlt(capsys, *run_semrel("--no-progress")(tmp_path, data_dir, tiny_encoder_dir))
    assert code == 0, err
    study = tmp_path / "runs" / "bad"
    code, _, err = xlt(capsys, "report", str(study), "--data-dir", str(data_dir))
    assert code == 0, err  # the baseline's scores are a report of their own
    text = (study / "report" / "report.md").read_text()
    assert "No gains: the study has no intermediate tasks (add intermediates" in text
    assert "| semrel |" in text and "spearman" in text
    # a study with nothing finished yet has nothing to report
    empty = tmp_path / "empty"
    empty.mkdir()
    results = json.loads((study / "results.json").read_text())
    (empty / "results.json").write_text(json.dumps({**results, "scores": [], "gains": []}))
    code, _, err = xlt(capsys, "report", str(empty), "--data-dir", str(data_dir))
    assert code == 2 and "has no results yet" in one_line(err) and "xlt run" in one_line(err)


def test_damaged_stage_is_pending_and_rebuilt(
    tmp_path: Path,
    data_dir: Path,
    tiny_encoder_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = run_semrel("--no-progress")(tmp_path, data_dir, tiny_encoder_dir)
    assert xlt(capsys, *args)[0] == 0
    root = tmp_path / "runs" / "bad"
    first = json.loads((root / "results.json").read_text())["scores"]
    (stage,) = [p for p in (root / "stages").iterdir() if not p.name.startswith(".")]
    (stage / "predictions.json").unlink()
    code, out, _ = xlt(capsys, "status", str(root))
    assert code == 0 and "damaged (predictions.json is missing)" in " ".join(out.split())
    code, _, err = xlt(capsys, *args)
    assert code == 0 and "damaged (predictions.json is missing); rebuilding it" in " ".join(err.split())
    assert json.loads((root / "results.json").read_text())["scores"] == first


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path: Path, data_dir: Path, tiny_encoder_dir: Path) -> None:
    # many epochs too: one epoch of the tiny encoder can end before the signal is sent
    longer = ("--set", "training.target.max_steps=100000", "--set", "training.target.train_limit=null",
              "--set", "training.target.epochs=1000")  # fmt: skip
    args = run_semrel("--no-progress", *longer)(tmp_path, data_dir, tiny_encoder_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "xlt.cli.main", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        # a shell starts background jobs with SIGINT ignored, and children inherit that: the run under test
        # gets the default disposition, as in a terminal, whoever started pytest
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 300
        partial = "runs/bad/stages/.*.partial/build.json"
        while time.monotonic() < deadline and not list(tmp_path.glob(partial)):
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # never leave a run behind to slow the rest of the suite
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == (
        "interrupted: finished stages are kept; run the same command again to resume"
    )
    assert "Traceback" not in err
    assert list(tmp_path.glob("runs/bad/stages/.*.partial"))  # kept: the next run continues it


def test_debug_shows_the_error_itself(tmp_path: Path, data_dir: Path, tiny_encoder_dir: Path) -> None:
    from xlt.cli.app import options
    from xlt.core.errors import ConfigError

    args = run_semrel("--set", "seeds=[1,")(tmp_path, data_dir, tiny_encoder_dir)
    argv = sys.argv
    sys.argv = ["xlt", "--debug", *args]
    try:
        with pytest.raises(ConfigError, match="not valid YAML"):
            main()
    finally:
        sys.argv = argv
        options.debug = False


@pytest.mark.parametrize(
    ("args", "message"),
    [(["plan"], "No such command 'plan'"), (["run", "--sett", "x"], "No such option: --sett")],
)
def test_usage_errors_are_usage_errors_not_internal_ones(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    # Typer ships its own copy of click; its usage errors must not read as a bug in xlt
    code, _, err = xlt(capsys, *args)
    assert code == 2 and message in err and "internal error" not in err


def test_ctrl_c_ends_the_process_even_if_exit_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SIGINT handler raises KeyboardInterrupt and starts a watchdog that ends the process with the
    same message and code if unwinding and exiting hang (a thread stuck at interpreter exit)."""
    import threading

    from xlt.cli import main as cli_main

    exits: list[int] = []
    monkeypatch.setattr(cli_main.os, "_exit", exits.append)
    monkeypatch.setattr(cli_main, "INTERRUPT_GRACE_SECONDS", 0.05)
    with pytest.raises(KeyboardInterrupt):
        cli_main._on_interrupt(signal.SIGINT, None)
    watchdogs = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    for timer in watchdogs:
        timer.join(5)
    assert exits == [130]


def test_ctrl_c_during_a_finalizer_is_delivered_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt raised inside a __del__ run by the garbage collector is printed as "Exception
    ignored" and dropped (seen in CI, in the regex package's finalizer): the handler delivers it again."""
    import threading
    import time

    from xlt.cli import main as cli_main

    exits: list[int] = []
    dropped: list[object] = []
    monkeypatch.setattr(cli_main.os, "_exit", exits.append)
    monkeypatch.setattr(cli_main, "INTERRUPT_GRACE_SECONDS", 0.05)
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)

    class Finalized:
        def __del__(self) -> None:
            cli_main._on_interrupt(signal.SIGINT, sys._getframe())

    previous = signal.signal(signal.SIGINT, cli_main._on_interrupt)
    interrupted = False
    try:
        Finalized()  # finalized at once: its __del__ runs the handler, which must not raise there
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.01)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, previous)
        for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
            timer.join(5)
    assert dropped == []
    assert interrupted, "the interrupt was lost"
