"""Render every benchmark figure in README.md and docs/*.md from benchmarks/results/*.json.

A figure lives between marker comments, `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the text
between them is replaced by what BLOCKS[NAME] renders from the results files it names, so no figure
is typed by hand and none outlives the data it came from.

Run: python scripts/render_benchmarks.py (`make bench-docs`) to rewrite the files, or with --check to
exit 1 with a diff when any file differs from its rendering (the template's fast tests do this).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BLOCK = re.compile(r"<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /bench:(?P=name) -->", re.S)
WIDTH = 100
Report = dict[str, Any]
Renderer = Callable[..., str]
BLOCKS: dict[str, tuple[tuple[str, ...], Renderer]] = {}


def documents() -> list[Path]:
    """The template's docs, and the generated README (figures a user decides by, without provenance)."""
    return [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "{{cookiecutter.project_slug}}" / "README.md",
    ]


def block(*sources: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under its function name (underscores as dashes), fed these results files."""

    def register(function: Renderer) -> Renderer:
        BLOCKS[function.__name__.replace("_", "-")] = (sources, function)
        return function

    return register


def load(name: str) -> Report:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"no results file {path.relative_to(ROOT)}: run `python benchmarks/{name}.py`")
    return json.loads(path.read_text())


def render_block(name: str) -> str:
    if name not in BLOCKS:
        raise SystemExit(f"unknown benchmark block {name!r}; known: {', '.join(sorted(BLOCKS))}")
    sources, function = BLOCKS[name]
    paragraphs = function(*(load(source) for source in sources)).strip().split("\n\n")
    return "\n\n".join(paragraph if paragraph.startswith("|") else wrap(paragraph) for paragraph in paragraphs)


def wrap(paragraph: str) -> str:
    """Prose at the docs' line width, never breaking a word or a code span apart."""
    glued = re.sub(r"`[^`]*`", lambda span: span[0].replace(" ", "\0"), paragraph)
    return textwrap.fill(glued, WIDTH, break_long_words=False, break_on_hyphens=False).replace("\0", " ")


def blocks_of(benchmark: str) -> list[str]:
    """The blocks rendered from one benchmark's results."""
    return [name for name, (sources, _) in BLOCKS.items() if benchmark in sources]


def render(text: str) -> str:
    """The text with every block between markers rendered from the current results.

    Blank lines around the rendered text keep it a Markdown paragraph or table of its own.
    """
    return BLOCK.sub(
        lambda m: f"<!-- bench:{m['name']} -->\n\n{render_block(m['name'])}\n\n<!-- /bench:{m['name']} -->", text
    )


# --- formatting ---------------------------------------------------------------------------------


def n(value: float, digits: int = 0) -> str:
    """A figure with thousands separators."""
    return f"{value:,.{digits}f}"


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return n(value, 0) if value >= 100 else n(value, 1) if value >= 10 else n(value, 2)


def ratio(value: float | None) -> str:
    if value is None:
        return "n/a (it answered nothing)"
    return f"{value:.0f}x" if value >= 10 else f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"


def provenance(report: Report) -> str:
    """Where the figures come from and how the machine was loaded while they were taken."""
    machine = report["machine"]
    before, after = machine.get("load_average_before"), machine.get("load_average_after")
    load = f", load average {before[0]:.1f} before the run and {after[0]:.1f} after" if before and after else ""
    name = Path(report["benchmark"]).stem
    text = (
        f"_Data: `benchmarks/results/{name}.json`, from `{report['command']}` on {report['date'][:10]}"
        f" ({machine['cores']} cores{load})._"
    )
    if machine.get("note"):
        text += f" {machine['note']}"
    if report["settings"].get("trial"):
        text += (
            f" **Trial run** of {report['settings']['seconds']} s, to prove the script; the full soak is `make soak`."
        )
    elif report.get("quick"):
        text += (
            " **Quick run** (`BENCH_QUICK=1`): short measurements that prove the script;"
            " re-run without it on an idle machine for final figures."
        )
    return text


def table(header: list[str], rows: list[list[str]], align: str) -> str:
    """Markdown table; align has one letter per column: l(eft) or r(ight)."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


# --- one renderer per block -----------------------------------------------------------------------


@block("bake")
def bake(report: Report) -> str:
    results = report["results"]
    copy = results["rows"][-1]["median_ms"]
    rows = [[r["what"], n(r["median_ms"]), ratio(r["median_ms"] / copy)] for r in results["rows"]]
    caption = f"Median of {results['repeats']} runs, default answers (level 1, scikit-learn):"
    return f"{caption}\n\n{table(['what', 'ms', 'ratio to a plain copy'], rows, 'lrr')}\n\n{provenance(report)}"


@block("setup")
def setup(report: Report) -> str:
    results = report["results"]
    rows = [[r["what"], n(r["median_s"], 2 if r["median_s"] < 1 else 1)] for r in results["rows"]]
    by = {r["key"]: r["median_s"] for r in results["rows"]}
    runs = len(results["rows"][0]["runs_s"])
    text = (
        f"A generated level-2 scikit-learn project ({results['packages']} packages), medians of {runs} runs:\n\n"
        + table(["what", "seconds"], rows, "lr")
        + f"\n\nWith a warm cache `make setup` is {ratio(by['pip_warm'] / by['uv_warm'])} faster than pip with a"
        f" warm cache; with empty caches, {ratio(by['pip_cold'] / by['uv_cold'])}.\n\n"
    )
    return text + provenance(report)


@block("own_data_serving")
def own_data_serving(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    labels = {
        "example": "churn example (constructed features)",
        "adopted": "ACTG 175 adopted (generic pipeline)",
    }
    rows = [
        [label, str(r["trees"]), n(r["rps"]), ms(r["p50_ms"]), ms(r["p99_ms"]), n(r["errors"])]
        for key, label in labels.items()
        for r in [results[key]]
    ]
    text = (
        f"Single-record requests at {settings['connections']} connections, medians of 3 runs of"
        f" {settings['seconds']} s:\n\n"
        + table(["model", "trees", "req/s", "p50 ms", "p99 ms", "errors"], rows, "lrrrrr")
        + f"\n\nSingle-record throughput after `adopt`: {results['adopted_over_example']:.2f}x the example's"
        " (goal: within 25 %).\n\n"
    )
    return text + provenance(report)


@block("feature_store")
def feature_store(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    lookups = [
        [f"{size} id{'s' if size != '1' else ''}", ms(r["p50_ms"]), ms(r["p99_ms"])]
        for size, r in results["lookup"].items()
    ]
    labels = {"full_record": "full record (every model input sent)", "by_id": "by id (features from the online store)"}
    serving = [
        [label, n(r["rps"]), ms(r["p50_ms"]), ms(r["p99_ms"]), n(r["errors"])]
        for key, label in labels.items()
        for r in [results["serving"][key]]
    ]
    text = (
        f"Online lookups (`online_features`, SQLite online store), {settings['lookup_repeats']} calls each:\n\n"
        + table(["ids per call", "p50 ms", "p99 ms"], lookups, "lrr")
        + f"\n\nSingle-record requests at {settings['connections']} connections, medians of 3 runs of"
        f" {settings['seconds']} s:\n\n"
        + table(["request", "req/s", "p50 ms", "p99 ms", "errors"], serving, "lrrrr")
        + f"\n\nRequests by id answer {results['by_id_over_full_record']:.2f}x the full-record throughput.\n\n"
    )
    return text + provenance(report)


@block("pipeline")
def pipeline(report: Report) -> str:
    d = report["results"]["default"]
    rows = [
        ["sample generation (`make data`)", n(d["generate_s"], 1)],
        [f"full pipeline, `dvc repro` (5 stages, peak {n(d['repro_peak_mib'])} MiB)", n(d["repro_s"], 1)],
        ["no-op `dvc repro`", n(d["noop_s"], 2)],
    ]
    text = (
        f"Default sample ({n(d['customers'])} customers, {n(d['transactions'])} transactions):\n\n"
        + table(["what", "seconds"], rows, "lr")
        + f"\n\nAggregating transactions per customer with `groupby`: {ms(d['groupby_ms'])} ms; the same totals"
        f" with a row-by-row Python loop: {ms(d['loop_ms'])} ms ({ratio(d['loop_ms'] / d['groupby_ms'])} slower).\n\n"
    )
    return text + provenance(report)


@block("pipeline")
def pipeline_scaling(report: Report) -> str:
    scaling = report["results"]["scaling"]
    stages = list(scaling[0]["stages"])
    per_stage = all("stages_mib" in s for s in scaling)  # older results have the largest peak alone
    header = ["size", "customers", "transactions", *stages, "total s", *([] if per_stage else ["peak MiB"])]
    rows = [
        [
            f"{s['size']:g}x",
            n(s["customers"]),
            n(s["transactions"]),
            *(n(s["stages"][stage], 1) for stage in stages),
            n(s["total_s"], 1),
            *([] if per_stage else [n(s["peak_mib"])]),
        ]
        for s in scaling
    ]
    text = table(header, rows, "l" + "r" * (len(header) - 1)) + "\n\n"
    if per_stage:
        memory = [[f"{s['size']:g}x", *(n(s["stages_mib"][stage]) for stage in stages)] for s in scaling]
        text += "Peak resident memory of each stage, MiB:\n\n"
        text += table(["size", *stages], memory, "l" + "r" * len(stages)) + "\n\n"
        text += growth(scaling[0], scaling[-1], stages) + "\n\n"
    return text + provenance(report)


def growth(first: dict, last: dict, stages: list[str]) -> str:
    """How time and memory grow from the smallest size measured to the largest, in words."""
    times = ", ".join(f"{stage} {ratio(last['stages'][stage] / first['stages'][stage])}" for stage in stages)
    memory = ", ".join(f"{stage} {n(first['stages_mib'][stage])} to {n(last['stages_mib'][stage])}" for stage in stages)
    return (
        f"From {first['size']:g}x to {last['size']:g}x ({ratio(last['transactions'] / first['transactions'])}"
        f" the transactions) the stages' total time grows {ratio(last['total_s'] / first['total_s'])}"
        f" ({times}) and the largest peak memory of a stage from {n(first['peak_mib'])} to"
        f" {n(last['peak_mib'])} MiB ({memory} MiB)."
    )


def _cell(point: dict) -> str:
    if not point["requests"]:
        return "none answered †"
    flag = " †" if point["non_2xx"] or point["socket_errors"] or point["timeouts"] else ""
    return f"{n(point['rps'])} ({ms(point['p99_ms'])}){flag}"


TOOLS = {
    "ours": "this service",
    "mlflow": "`mlflow models serve`",
    "mlserver": "MLServer",
    "bare": "bare FastAPI endpoint (the HTTP ceiling)",
}


def conns(count: int) -> str:
    return f"{count} connection{'s' * (count != 1)}"


@block("serving")
def serving(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    summary = results["summary"]
    reported = settings["reported"]
    header = [
        "server",
        "best configuration",
        *(f"{conns(c)}: req/s (p99 ms)" for c in reported),
        "best: connections, req/s (p99 ms)",
        "this service over it, at best",
    ]
    rows = []
    for tool, label in TOOLS.items():
        chosen = summary[tool]
        if "single" not in chosen:
            rows.append([label, "every configuration", *("none without errors" for _ in reported), "none", "n/a"])
            continue
        single = chosen["single"]
        over = "1.0x" if tool == "ours" else ratio(chosen["ours_over"]["single_best"])
        rows.append(
            [
                label,
                single["variant"],
                *(_cell(chosen["at"][str(c)]) for c in reported),
                f"{single['connections']}: {_cell(single)}",
                over,
            ]
        )
    ours = summary["ours"]["single"]
    bare = summary["bare"].get("ours_over")

    def against(tool: str, name: str) -> str:
        over = summary[tool].get("ours_over")
        if over is None:
            return f"{name} had no error-free point"
        best = f"**{ratio(over['single_best'])}** {name} at its best ({conns(summary[tool]['single']['connections'])})"
        return f"{best}; {ratio(over['single_16'])} and {ratio(over['single_64'])} at 16 and 64 connections"

    text = (
        f"One record per request; every figure is the median of {settings['runs']} runs of {settings['seconds']} s"
        " (in rounds: each round starts every server in turn and sweeps it once);"
        f" each server swept over {', '.join(map(str, settings['sweep']))} connections and, where it has"
        " options, each configuration; best = the highest throughput without errors (within 5 % of it, the"
        " fewest connections). † = errors, timeouts or no answer within the run.\n\n"
        + table(header, rows, "llrrrrr")
        + f"\n\nAt its best this service answers {n(ours['rps'])} single-record requests/s:"
        f" {against('mlflow', '`mlflow models serve`')}; {against('mlserver', 'MLServer')}"
        + (f"; {100 * bare['single_best']:.0f} % of the bare endpoint at its best.\n\n" if bare else ".\n\n")
    )
    return text + provenance(report)


@block("serving")
def serving_batch(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    summary, rows_per_batch = results["summary"], results["batch_rows"]
    rows = []
    for tool, label in TOOLS.items():
        if "batch" not in summary[tool]:
            continue
        batch = summary[tool]["batch"]
        over = "1.0x" if tool == "ours" else ratio(summary[tool]["ours_over"]["batch_best"])
        rows.append(
            [
                label,
                batch["variant"],
                str(batch["connections"]),
                n(batch["rps"] * rows_per_batch),
                ms(batch["p50_ms"]),
                ms(batch["p99_ms"]),
                over,
            ]
        )
    diffs = {
        tool: max(v["max_abs_diff"] for v in results["tools"][tool] if "max_abs_diff" in v)
        for tool in ("ours", "mlflow", "mlserver")
    }
    header = ["server", "best configuration", "connections", "rows/s", "p50 ms", "p99 ms", "this service over it"]
    text = (
        f"{n(rows_per_batch)}-record batches, connections swept over"
        f" {', '.join(map(str, settings['batch_sweep']))}:\n\n"
        + table(header, rows, "llrrrrr")
        + f"\n\nThe same {n(rows_per_batch)} records got the fitted pipeline's probabilities from every server:"
        f" `mlflow models serve` and MLServer identical (largest difference {diffs['mlflow']:g} and"
        f" {diffs['mlserver']:g}), and this service's compiled path "
        + ("identical as well" if diffs["ours"] == 0 else f"within {diffs['ours']:.1e}")
        + f" (it is proven within {results['tolerance']:g} of the pipeline when the model loads).\n\n"
    )
    return text + provenance(report)


GOAL_NAMES = {
    "batch_over_mlserver": "1,000-record batches: this service over MLServer, each at its best",
    "batch_over_mlflow": "1,000-record batches: this service over `mlflow models serve`, each at its best",
    "batch_p99_ms_at_1": "1,000-record batches: p99 at 1 connection, ms",
    "single_16_share_of_bare": "single records at 16 connections: share of the bare endpoint",
    "single_64_share_of_bare": "single records at 64 connections: share of the bare endpoint",
    "single_p99_ms_at_16": "single records: p99 at 16 connections, ms",
}


def _goal_value(name: str, value: float | None) -> str:
    if value is None:
        return "no error-free point"
    if name.startswith("single_") and "share" in name:
        return f"{100 * value:.0f} %"
    return ratio(value) if "_over_" in name else ms(value)


@block("serving")
def serving_goals(report: Report) -> str:
    goals = report["results"]["goals"]
    rows = []
    for name, goal in goals.items():
        bound = ("≥ " if goal["kind"] == "min" else "≤ ") + _goal_value(name, goal["bound"])
        met = {True: "met", False: "**not met**", None: "n/a"}[goal["met"]]
        rows.append([GOAL_NAMES[name], bound, _goal_value(name, goal["value"]), met])
    return table(["goal", "bound", "measured", ""], rows, "lrrl") + "\n\n" + provenance(report)


@block("serving_profile")
def serving_profile(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    rows = results["batch_rows"]
    parts = []
    steps = {framework: r["steps"] for framework, r in results["by_framework"].items()}
    names = list(next(iter(steps.values()))["ms"])
    header = ["step", *(f"{framework} ({s['estimator']}), ms" for framework, s in steps.items())]
    parts.append(
        f"The steps of one {n(rows)}-record request in process, one thread, medians of 100 calls:\n\n"
        + table(
            header, [[name, *(ms(s["ms"][name]) for s in steps.values())] for name in names], "l" + "r" * len(steps)
        )
    )
    for framework, result in results["by_framework"].items():
        for load, found in result["profile"].items():
            body = "1,000-record batches" if load == "batch" else "single records"
            threads = ", ".join(f"{name} {100 * share:.0f} %" for name, share in found["threads"].items())
            top = [[f"`{name}`", f"{100 * share:.1f} %"] for name, share in found["top"]]
            parts.append(
                f"**{framework}, {body} at {conns(found['connections'])}** — py-spy `--gil`, {found['samples']:,}"
                f" samples over {settings['seconds']} s; threads: {threads}:\n\n"
                + table(["function holding the interpreter", "share of samples"], top, "lr")
            )
    return "\n\n".join(parts) + "\n\n" + provenance(report)


@block("serving")
def serving_call_cost(report: Report) -> str:
    cost, rows = report["results"]["call_cost_ms"], report["results"]["batch_rows"]
    return (
        f"One `predict_proba` call of the fitted pipeline costs {ms(cost['pipeline_1'])} ms for one row and"
        f" {ms(cost[f'pipeline_{rows}'])} ms for {n(rows)} rows; the compiled path {ms(cost['compiled_1'])} ms and"
        f" {ms(cost[f'compiled_{rows}'])} ms (one scoring thread, `benchmarks/serving.py`,"
        f" {report['date'][:10]}{', quick run' if report['quick'] else ''})."
    )


@block("batch_scoring")
def batch_scoring(report: Report) -> str:
    by_rows = report["results"]["by_rows"]
    rows = [
        [n(int(size)), engine, n(r["seconds"], 1), n(r["rows_per_s"]), n(r["peak_mib"])]
        for size, engines in by_rows.items()
        for engine, r in engines.items()
    ]
    largest = by_rows[max(by_rows, key=int)]
    settings = report["settings"]
    text = (
        f"`score` end to end, medians of {settings['repeats']} run(s); memory is the peak of the whole process tree:\n\n"
        + table(["rows", "engine", "seconds", "rows/s", "peak MiB"], rows, "rlrrr")
        + f"\n\nAt {n(int(max(by_rows, key=int)))} rows Spark (`{settings['spark_master']}`) scores"
        f" **{ratio(largest['spark']['rows_per_s'] / largest['pandas']['rows_per_s'])}** the rows per second of pandas"
        f" (chunks of {n(settings['chunk_rows'])} rows).\n\n"
    )
    return text + provenance(report)


STORES = {"sqlite": "SQLite file", "postgresql": "PostgreSQL"}


@block("prediction_store")
def prediction_store(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    rows = [
        [
            STORES[store],
            n(figures["one_writer"]),
            n(figures["two_writers"]),
            ratio(figures["two_writers"] / figures["one_writer"]),
            n(figures["read_s"], 2),
        ]
        for store, figures in results.items()
    ]
    return (
        f"Rows committed per second by the service's log writer, requests of {settings['rows_per_request']} records"
        f" ({n(settings['rows_per_writer'])} rows per writer, median of {settings['repeats']} run(s)), and the"
        f" time monitoring takes to read the whole log of {n(2 * settings['rows_per_writer'])} rows:\n\n"
        + table(["store", "1 writer rows/s", "2 writers rows/s", "2 vs 1", "read s"], rows, "lrrrr")
        + "\n\n"
        + provenance(report)
    )


@block("prediction_store")
def store_guidance(report: Report) -> str:
    sqlite, postgres = report["results"]["sqlite"], report["results"]["postgresql"]

    def about(value: float) -> str:
        return n(round(value, -2))

    return (
        f"Measured on {report['machine']['cores']} cores, both flushing every commit to disk: one service process"
        f" logs about {about(sqlite['one_writer'])} rows/s to a SQLite file and {about(postgres['one_writer'])} to"
        f" PostgreSQL; two processes on one machine log {about(sqlite['two_writers'])} together to one SQLite file"
        f" and {about(postgres['two_writers'])} to PostgreSQL. Reading the whole log back for monitoring"
        f" ({n(2 * report['settings']['rows_per_writer'])} rows) takes {n(sqlite['read_s'], 2)} s from the file and"
        f" {n(postgres['read_s'], 2)} s from the server. The file is the simpler choice on one machine; replicas on"
        " several machines cannot share a file, so they need the database."
    )


@block("batch_scoring")
def batch_guidance(report: Report) -> str:
    by_rows, settings = report["results"]["by_rows"], report["settings"]
    largest = max(by_rows, key=int)
    pandas, spark = by_rows[largest]["pandas"], by_rows[largest]["spark"]
    return (
        f"Measured on {report['machine']['cores']} cores at {n(int(largest))} rows: pandas scored"
        f" {n(pandas['rows_per_s'])} rows/s in {n(pandas['peak_mib'])} MiB, Spark on `{settings['spark_master']}`"
        f" {n(spark['rows_per_s'])} rows/s in {n(spark['peak_mib'])} MiB. On one machine pandas in chunks is"
        " faster and smaller; Spark pays off when a batch outgrows one machine and runs on a cluster's executors."
        if pandas["rows_per_s"] >= spark["rows_per_s"]
        else f"Measured on {report['machine']['cores']} cores at {n(int(largest))} rows: Spark on"
        f" `{settings['spark_master']}` scored {n(spark['rows_per_s'])} rows/s in {n(spark['peak_mib'])} MiB, pandas"
        f" {n(pandas['rows_per_s'])} rows/s in {n(pandas['peak_mib'])} MiB."
    )


ROUTES = {"bypass": "the Guard's bypass", "route": "a FastAPI route"}


@block("predict_route")
def predict_route(report: Report) -> str:
    results, settings = report["results"], report["settings"]
    rows = [
        [label, str(c), n(point["rps"]), ms(point["p99_ms"]), f"{point['cpu_ms']:.2f}", n(point["errors"])]
        for c in map(str, settings["connections"])
        for variant, label in ROUTES.items()
        for point in [results["variants"][variant][c]]
    ]
    gain, at, rule = results["bypass_gain"][str(settings["keep_at"])], settings["keep_at"], settings["min_gain"]
    paired = results["paired_gain"][str(at)]
    others = ", ".join(f"{100 * g:+.0f} % at {c}" for c, g in results["paired_gain"].items() if c != str(at))
    verdict = (
        "**kept**: `/predict` is answered by the ASGI layer in front of FastAPI."
        if results["keep_bypass"]
        else "**removed**: `/predict` is a FastAPI route like every other endpoint."
    )
    text = (
        f"Single-record requests to `/predict`, the two variants of one service taking turns (A, B, A, B, A, B);"
        f" medians of {settings['runs']} runs of {settings['seconds']} s each:\n\n"
        + table(
            ["/predict answered by", "connections", "req/s", "p99 ms", "server CPU ms/request", "errors"],
            rows,
            "lrrrrr",
        )
        + f"\n\nAt {conns(at)} the bypass answers {100 * paired:+.0f} % requests/s, the median of its runs each"
        f" over the route run beside it ({100 * gain:+.0f} % from the medians above; {others});"
        f" per CPU-second of the server, which other work on the machine moves least,"
        f" {100 * results['cpu_gain'][str(at)]:+.0f} %. The rule: keep it only if it buys at least"
        f" {100 * rule:.0f} % at {conns(at)}. Verdict: {verdict}\n\n"
    )
    return text + provenance(report)


@block("drift")
def drift(report: Report) -> str:
    r = report["results"]
    rows = [
        [
            f"`drift` over {n(r['rows'])} logged predictions, end to end (peak {n(r['peak_mib'])} MiB)",
            n(r["drift_s"], 1),
        ],
        ["reading the log: Arrow through ADBC (what `drift` does)", n(r["read_adbc_s"], 2)],
        ["reading the log: `pandas.read_sql_query` on `sqlite3`", n(r["read_pandas_s"], 2)],
    ]
    text = (
        f"Medians of {r['repeats']} runs:\n\n"
        + table(["measurement", "seconds"], rows, "lr")
        + f"\n\nReading through ADBC is **{ratio(r['read_pandas_s'] / r['read_adbc_s'])}** faster than pandas on"
        " `sqlite3`.\n\n"
    )
    return text + provenance(report)


def size(count: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count} B"


@block("soak")
def soak(report: Report) -> str:
    r, settings = report["results"], report["settings"]
    memory = r["memory"]
    verdict = "**passed**" if r["passed"] else "**failed**: " + "; ".join(r["failures"])
    rows = [
        [
            f"`{case}`",
            n(c["count"]),
            ", ".join(f"{status}: {n(count)}" for status, count in sorted(c["outcomes"].items())),
            ms(c["p50_ms"]),
            ms(c["p99_ms"]),
            ms(c["max_ms"]),
            size(c["max_response_bytes"]),
        ]
        for case, c in sorted(r["cases"].items())
    ]
    stop = f"{r['stop_seconds']} s" if r["stop_seconds"] is not None else "no stop (killed)"
    header = ["case", "requests", "outcomes (status, or what the connection did)", "p50 ms", "p99 ms", "max ms"]
    text = (
        f"{n(settings['seconds'])} s of mixed traffic from {settings['concurrency']} concurrent clients against a"
        f" level-2 service with the prediction log on: {n(r['requests'])} requests; {n(r['answered_rows'])}"
        f" predicted rows answered 200, {n(r['logged_rows'])} of them in the log; {n(r['accepted_feedback'])}"
        f" feedback requests accepted, {n(r['lost_feedback'])} missing from the log; {n(r['server_errors'])} 5xx;"
        f" {n(r['tracebacks_in_service_log'])} tracebacks in the service's output; stopped {stop} after SIGTERM."
        f" Verdict: {verdict}.\n\n"
        f"Resident memory: {n(memory['start_mib'])} MiB when the traffic started, peak {n(memory['peak_mib'])} MiB,"
        f" {n(memory['end_mib'])} MiB at the end; the level it returns to between bursts (lower quartile)"
        f" {n(memory['floor_first_half_mib'])} MiB in the first half of the run after warm-up and"
        f" {n(memory['floor_second_half_mib'])} MiB in the second, growth {n(memory['growth_mib'], 1)} MiB"
        f" (bound {n(memory['bound_mib'])} MiB); {n(memory['samples'])}"
        f" samples, every {settings['sample_seconds']:g} s.\n\n"
        + table([*header, "largest answer"], rows, "lrlrrrr")
        + "\n\n"
    )
    return text + provenance(report)


@block("bake", "setup", "pipeline", "serving")
def readme_summary(bake: Report, setup: Report, pipeline: Report, serving: Report) -> str:
    generate = next(r for r in bake["results"]["rows"] if r["key"] == "hooks")["median_ms"] / 1000
    by = {r["key"]: r["median_s"] for r in setup["results"]["rows"]}
    default = pipeline["results"]["default"]
    summary = serving["results"]["summary"]
    quick = [Path(r["benchmark"]).stem for r in (bake, setup, pipeline, serving) if r.get("quick")]
    return (
        f"Measured on {serving['machine']['cores']} cores ([docs/benchmarks.md](docs/benchmarks.md)): generating"
        f" a project takes {generate:.2f} s; `make setup` of its environment from `uv.lock` {by['uv_warm']:.0f} s"
        f" with a warm cache (a fresh venv and `pip install -e` {by['pip_warm']:.0f} s); the full pipeline on the"
        f" default sample {default['repro_s']:.1f} s (a no-op `dvc repro` {default['noop_s']:.1f} s); at its best"
        f" the service answers {n(summary['ours']['single']['rps'])} single-record requests/s,"
        f" {ratio(summary['mlflow']['ours_over']['single_best'])} `mlflow models serve` and"
        f" {ratio(summary['mlserver']['ours_over']['single_best'])} MLServer at their best, with the same model,"
        f" and {100 * summary['bare']['ours_over']['single_best']:.0f} % of a bare FastAPI endpoint."
        + (f" (Quick runs for now: {', '.join(quick)}.)" if quick else "")
    )


# --- command ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a file differs")
    args = parser.parse_args(argv)
    stale = []
    for path in documents():
        text = path.read_text()
        rendered = render(text)
        if rendered == text:
            continue
        stale.append(path)
        if args.check:
            name = str(path.relative_to(ROOT))
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), rendered.splitlines(True), name, name))
        else:
            path.write_text(rendered)
            print(f"rendered {path.relative_to(ROOT)}")
    if args.check and stale:
        print("\nthe figures above differ from benchmarks/results: run `make bench-docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
