"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package) loads the page of a
study's report, and every figure in it decodes and shows. Runs wherever chromium is installed; CI installs
it and sets XLT_REQUIRE_BROWSER=1, so there a missing browser fails the test instead of skipping it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from xlt.report.markdown import html_page

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("XLT_REQUIRE_BROWSER"):
        pytest.fail("XLT_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)")
    pytest.skip("no chromium installed (apt-get install chromium); CI runs this test")


def loaded_images(page: Path, screenshot: Path | None = None) -> tuple[int, int]:
    """(figures that loaded, figures) of an HTML page, as headless Chromium sees them after load; fails if
    the page is wider than the browser's window (it would scroll sideways)."""
    browser = _browser()
    page = page.resolve()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    if screenshot is not None:
        subprocess.run(
            [
                browser,
                *flags,
                f"--screenshot={screenshot}",
                "--window-size=1200,3000",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    found = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert found is not None, "the page's image check did not run (no data-images on <body>)"
    width = re.search(r'data-width="(\d+)/(\d+)"', dom)
    assert width is not None, "the page's width check did not run (no data-width on <body>)"
    assert int(width.group(1)) <= int(width.group(2)), f"page wider than the window: {width.group(0)}"
    return int(found.group(1)), int(found.group(2))


def test_the_browser_sees_a_broken_figure(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    figure.savefig(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    wide = "| " + " | ".join(f"column {i}" for i in range(60)) + " |\n|" + "---|" * 60 + "\n"
    markdown = (
        "# page\n\n**bold** and `code`\n\n![good](good.png)\n\n![broken](broken.png)\n\n| a |\n|---|\n| 1 |\n"
        f"\n{wide}"
    )
    page = tmp_path / "page.html"
    page.write_text(html_page(markdown, tmp_path))
    assert "<p><strong>bold</strong> and <code>code</code></p>" in page.read_text()
    assert loaded_images(page) == (1, 2)


def test_every_figure_of_a_study_report_loads(tmp_path: Path, data_dir: Path, tiny_encoder_dir: Path) -> None:
    from typer.testing import CliRunner

    from xlt.cli.main import app

    study = tmp_path / "study.yaml"
    budget = "{max_steps: 3, batch_size: 8, train_limit: 48, dev_limit: 16, evaluations: 1}"
    study.write_text(
        f"name: page\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\nintermediates: [stsb, mrpc, sst2]\n"
        f"targets: [semrel]\ntraining: {{intermediate: {budget}, target: {budget}}}\n"
        "evaluation: {languages: [eng, hau, amh], max_examples: 20, bootstrap: 50,\n"
        "             tatoeba: {enabled: false}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    root = tmp_path / "runs" / "page"
    runner = CliRunner()
    for args in (
        ["run", str(study), "--no-progress", "--data-dir", str(data_dir)],
        ["similarity", str(root), "--estimators", "taxonomy,random", "--data-dir", str(data_dir)],
        ["report", str(root), "--data-dir", str(data_dir), "--permutations", "100"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    page = root / "report" / "report.html"
    figures = len(re.findall(r"<img ", page.read_text()))
    assert figures >= 4
    loaded, total = loaded_images(page, screenshot=tmp_path / "report.png")
    assert (loaded, total) == (figures, figures)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert not pd.read_csv(root / "gains.csv").empty
