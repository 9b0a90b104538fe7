"""Benchmark figures in README.md and docs/*.md come from benchmarks/results, and every benchmark feeds them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import render_benchmarks
from helpers import TEMPLATE

BENCHMARKS = TEMPLATE / "benchmarks"
# a measured quantity: a number with a unit of time, memory, throughput or a ratio
FIGURE = re.compile(r"\b\d[\d,.]*\s?(?:ms|s|min|MiB|GiB|req/s|rows/s|x|%)(?![\w-])")
# pages whose figures must all be rendered (others quote limits and settings, not measurements)
MEASURED_PAGES = ("README.md", "docs/benchmarks.md", "docs/serving.md")
# settings these pages quote, which look like figures
SETTINGS = ("wrk's timeout is 30 s", "the pod's 1 GiB", "`HEADER_TIMEOUT` (10 s)", "`BODY_TIMEOUT` (30 s)")


def benchmark_scripts() -> set[str]:
    """The scripts that write a results file (the helpers they share do not)."""
    return {path.stem for path in BENCHMARKS.glob("*.py") if 'Run("' in path.read_text()}


def test_every_figure_in_the_docs_matches_its_results_file() -> None:
    stale = [
        str(path.relative_to(TEMPLATE))
        for path in render_benchmarks.documents()
        if render_benchmarks.render(path.read_text()) != path.read_text()
    ]
    assert not stale, f"figures differ from benchmarks/results in {stale}: run `make bench-docs`"


def test_a_changed_result_changes_the_rendered_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is live: the same page rendered from a different results file no longer matches."""
    results = tmp_path / "results"
    shutil.copytree(render_benchmarks.RESULTS, results)
    report = json.loads((results / "drift.json").read_text())
    report["results"]["drift_s"] += 1.0
    (results / "drift.json").write_text(json.dumps(report))
    page = (TEMPLATE / "docs/benchmarks.md").read_text()
    monkeypatch.setattr(render_benchmarks, "RESULTS", results)
    assert render_benchmarks.render(page) != page
    assert render_benchmarks.main(["--check"]) == 1


def test_every_block_has_a_renderer_and_every_results_file_is_shown() -> None:
    used = {
        m["name"] for path in render_benchmarks.documents() for m in render_benchmarks.BLOCK.finditer(path.read_text())
    }
    assert used == set(render_benchmarks.BLOCKS), "a block in the docs has no renderer, or a renderer is unused"
    shown = {source for name in used for source in render_benchmarks.BLOCKS[name][0]}
    results = {path.stem for path in render_benchmarks.RESULTS.glob("*.json")}
    assert results == shown == benchmark_scripts()


@pytest.mark.parametrize("name", sorted(benchmark_scripts()))
def test_every_results_file_says_how_it_was_produced(name: str) -> None:
    report = json.loads((render_benchmarks.RESULTS / f"{name}.json").read_text())
    assert report["benchmark"] == f"benchmarks/{name}.py"
    assert f"python benchmarks/{name}.py" in report["command"]
    assert isinstance(report["quick"], bool)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d(T[\d:]+Z)?", report["date"])
    assert report["machine"]["cores"] >= 1
    assert report["versions"]["template"]
    assert report["settings"]
    assert report["results"]


def test_make_bench_runs_every_benchmark_and_make_soak_the_soak() -> None:
    def recipe(target: str) -> str:
        dry = subprocess.run(["make", "-n", target], cwd=TEMPLATE, capture_output=True, text=True, check=True)
        return dry.stdout

    bench = recipe("bench")
    missing = [name for name in benchmark_scripts() - {"soak"} if f"benchmarks/{name}.py" not in bench]
    assert not missing, f"make bench does not run {missing}"
    assert "scripts/render_benchmarks.py" in bench
    assert "benchmarks/soak.py" in recipe("soak")


@pytest.mark.parametrize("page", MEASURED_PAGES)
def test_no_measured_figure_outside_the_rendered_blocks(page: str) -> None:
    text = render_benchmarks.BLOCK.sub("", (TEMPLATE / page).read_text())
    for setting in SETTINGS:
        text = text.replace(setting, "")
    assert not FIGURE.findall(text), f"{page} has figures typed by hand: {FIGURE.findall(text)}"


def test_the_service_answers_predict_as_the_measured_verdict_says() -> None:
    """The bypass ships exactly when benchmarks/predict_route.py found it worth its code."""
    report = json.loads((render_benchmarks.RESULTS / "predict_route.json").read_text())
    app = TEMPLATE / "{{cookiecutter.project_slug}}/src/{{cookiecutter.module_name}}/serving/app.py"
    assert ('fast_routes={"/predict"' in app.read_text()) == report["results"]["keep_bypass"]
