"""The generated prediction service beside `mlflow models serve`, MLServer and a bare FastAPI endpoint.

One level-2 scikit-learn project, set up as a user does; the same registered model behind every
server (MLServer gets the same fitted pipeline saved with joblib), the same 1,000 holdout records in
each server's own request format, and a check that every server answers the same probabilities.
Each server is loaded by wrk with one record per request at a sweep of connection counts and
with 1,000-record batches; every point is the median of 3 runs, in 3 rounds of every server in
turn; each tool is reported at its best configuration and concurrency (the highest throughput
without errors; within 5 % of it, the fewest connections) and at 1, 16 and 64 connections. Also:
the cost of one scoring call of the fitted pipeline against the service's compiled path.

Run: python benchmarks/serving.py (BENCH_QUICK=1: 3 s runs and a shorter sweep; BENCH_SECONDS=n
sets the run length). Writes benchmarks/results/serving.json.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import competitors
import pandas as pd
import yaml
from common import QUICK, TEMPLATE, Run, package_versions, print_tables, project_env, trained_project
from load import ensure_wrk, failed, median_result, start, stop, wrk, wrk_version

MODULE = "bench_serve"
RAW = TEMPLATE / "build" / "bench" / "serving-raw.json"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "8"))
RUNS = 3
SWEEP = (1, 4, 16, 64) if QUICK else (1, 4, 8, 16, 32, 64)
BATCH_SWEEP = (1, 2) if QUICK else (1, 2, 4)
REPORTED = (1, 16, 64)
BATCH_ROWS = 1000
TOLERANCE = 1e-9  # the compiled path's proven bound against the pipeline
# the served model from the registry, its compiled path, and the cost of one call of each
PROBE = """
import json, statistics, sys, time
from pathlib import Path
import joblib, pandas as pd
from threadpoolctl import threadpool_limits
from {module}.schema import FEATURES
from {module}.serving.model_store import load_served_model

threadpool_limits(limits=1)  # as the service scores
served = load_served_model("models:/{module}@champion")
joblib.dump(served.model, sys.argv[2])
records = json.loads(Path(sys.argv[1]).read_text())
frame = pd.DataFrame.from_records(records, columns=FEATURES)
reference = served.model.predict_proba(frame)[:, 1].tolist()


def per_call(score, rows, calls):
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        score(rows)
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples) * 1000, 4)


pipeline = lambda rows: served.model.predict_proba(pd.DataFrame.from_records(rows, columns=FEATURES))
cost = {{}}
for n, calls in ((1, 300), (len(records), 30)):
    cost[f"pipeline_{{n}}"] = per_call(pipeline, records[:n], calls)
    if served.compiled is not None:
        cost[f"compiled_{{n}}"] = per_call(served.compiled.predict_proba, records[:n], calls)
print(json.dumps({{"reference": reference, "cost_ms": cost, "compiled": served.compiled is not None}}))
"""


def probe(project: Path, records: Path, model: Path, env: dict[str, str]) -> dict:
    script = records.parent / "probe.py"
    script.write_text(PROBE.format(module=MODULE))
    out = subprocess.run(
        ["python", str(script), str(records), str(model)],
        cwd=project,
        env={**env, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(points: dict[str, dict]) -> str | None:
    """The connection count with the highest throughput without errors; within 5 % of it, the fewest connections."""
    working = {c: point for c, point in points.items() if not failed(point)}
    if not working:
        return None
    top = max(point["rps"] for point in working.values())
    return min((c for c, point in working.items() if point["rps"] >= 0.95 * top), key=int)


def measure_server(server: competitors.Server, root: Path, reference: list[float]) -> dict:
    """Start, check its answers against the pipeline's, sweep single records and batches once, stop."""
    log = root / f"{server.tool}-{re.sub(r'[^a-z0-9]+', '-', server.variant)}.log"
    process = start(server.command, server.cwd, server.health_url, server.env, log)
    try:
        entry: dict = {"variant": server.variant}
        if "batch" in server.bodies:
            answered = competitors.probabilities(server, competitors.post(server.url, server.bodies["batch"]))
            gaps = [abs(a - b) for a, b in zip(answered, reference, strict=True)]
            entry["max_abs_diff"] = max(gaps)
            entry["identical_rows"] = sum(gap == 0 for gap in gaps)
            # the same fitted pipeline must give the same numbers; ours may differ within its proven bound
            limit = TOLERANCE if server.tool == "ours" else 0.0
            assert entry["max_abs_diff"] <= limit, f"{server.tool} is {entry['max_abs_diff']:.2e} off the pipeline"
        wrk(server.url, server.bodies["single"], 2, 16)  # warm-up
        entry["single"] = {str(c): wrk(server.url, server.bodies["single"], SECONDS, c) for c in SWEEP}
        if "batch" in server.bodies:
            entry["batch"] = {str(c): wrk(server.url, server.bodies["batch"], SECONDS, c) for c in BATCH_SWEEP}
        return entry
    finally:
        stop(process)


def measure_rounds(servers: list[competitors.Server], root: Path, reference: list[float]) -> dict[str, list[dict]]:
    """Every server swept once per round, RUNS rounds; each operating point the median of its rounds.

    Rounds rather than runs back to back: a slow spell of a shared machine then falls on every
    server alike, not on one of them, and the ratios between them hold.
    """
    rounds: list[list[dict]] = []
    for number in range(RUNS):
        rounds.append([])
        for server in servers:
            print(f"round {number + 1}/{RUNS}: measuring {server.tool} ({server.variant})", flush=True)
            rounds[-1].append(measure_server(server, root, reference))
            RAW.write_text(json.dumps({"rounds": rounds}))  # what is measured so far, if a later step fails
    tools: dict[str, list[dict]] = {}
    for server, sweeps in zip(servers, zip(*rounds, strict=True), strict=True):
        entry = {key: value for key, value in sweeps[0].items() if key not in ("single", "batch")}
        for kind in ("single", "batch"):
            if kind in sweeps[0]:
                entry[kind] = {c: median_result([sweep[kind][c] for sweep in sweeps]) for c in sweeps[0][kind]}
        tools.setdefault(server.tool, []).append(entry)
    return tools


def over(ours: dict, other: dict) -> float | None:
    """Our throughput over another's; None when the other answered nothing in the run."""
    return round(ours["rps"] / other["rps"], 3) if other["rps"] else None


def summarise(tools: dict[str, list[dict]]) -> dict:
    """Each tool at its best (configuration and concurrency), at the reported concurrencies, and ours over each."""
    summary = {}
    for tool, variants in tools.items():
        chosen = {}
        for kind in ("single", "batch"):
            candidates = [(v, best(v[kind])) for v in variants if kind in v]
            candidates = [(v, c) for v, c in candidates if c is not None]
            if not candidates:
                continue
            variant, connections = max(candidates, key=lambda vc: vc[0][kind][vc[1]]["rps"])
            chosen[kind] = {
                "variant": variant["variant"],
                "connections": int(connections),
                **variant[kind][connections],
            }
            if kind == "single":
                chosen["at"] = {str(c): variant["single"][str(c)] for c in REPORTED}
            else:
                chosen["batch_at_1"] = {"variant": variant["variant"], **variant["batch"]["1"]}
        summary[tool] = chosen
    ours = summary["ours"]
    for tool, chosen in summary.items():
        if tool == "ours" or "single" not in chosen:  # no error-free point: nothing to compare with
            continue
        ratios = {"single_best": over(ours["single"], chosen["single"])}
        for c in REPORTED:
            ratios[f"single_{c}"] = over(ours["at"][str(c)], chosen["at"][str(c)])
        if "batch" in chosen:
            ratios["batch_best"] = over(ours["batch"], chosen["batch"])
        chosen["ours_over"] = ratios
    return summary


# the goals of this service's serving work: (measured value, bound, "min" or "max")
GOALS = {
    "batch_over_mlserver": (1.5, "min"),
    "batch_over_mlflow": (3.0, "min"),
    "batch_p99_ms_at_1": (30.0, "max"),
    "single_16_share_of_bare": (0.4, "min"),
    "single_64_share_of_bare": (0.4, "min"),
    "single_p99_ms_at_16": (20.0, "max"),
}


def goals(summary: dict) -> dict:
    """Each goal's measured value, bound and whether it is met (None: a server had no error-free point)."""
    ours = summary["ours"]

    def ratio(tool: str, key: str) -> float | None:
        return summary[tool].get("ours_over", {}).get(key)

    measured = {
        "batch_over_mlserver": ratio("mlserver", "batch_best"),
        "batch_over_mlflow": ratio("mlflow", "batch_best"),
        "batch_p99_ms_at_1": ours["batch_at_1"]["p99_ms"],
        "single_16_share_of_bare": ratio("bare", "single_16"),
        "single_64_share_of_bare": ratio("bare", "single_64"),
        "single_p99_ms_at_16": ours["at"]["16"]["p99_ms"],
    }
    result = {}
    for name, (bound, kind) in GOALS.items():
        value = measured[name]
        met = None if value is None else (value >= bound if kind == "min" else value <= bound)
        result[name] = {"value": value, "bound": bound, "kind": kind, "met": met}
    return result


def main() -> None:
    ensure_wrk()
    run = Run("serving")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = trained_project(
            root, MODULE, maturity_level="2", model_framework="sklearn", project_name="bench serve"
        )
        contract = yaml.safe_load((project / f"src/{MODULE}/contract.yaml").read_text())
        columns = [c for c in contract["model_input"]["columns"] if c.get("role") in ("id", "feature")]
        holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
        names = [c["name"] for c in columns]
        rows = json.loads(holdout[names].dropna().head(BATCH_ROWS).to_json(orient="records"))
        bodies = competitors.write_bodies(root, columns, rows)
        (root / "records.json").write_text(json.dumps(rows))
        tracking = project_env(project, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
        model_file = root / "model.joblib"
        probed = probe(project, root / "records.json", model_file, tracking)
        venv = competitors.mlserver_environment(root, project)

        servers = [
            competitors.ours(project, MODULE, 8701, 1, bodies["ours"], tracking),
            competitors.ours(project, MODULE, 8701, 2, bodies["ours"], tracking),
            competitors.mlflow(project, MODULE, 8702, 1, bodies["mlflow"], tracking),
            competitors.mlflow(project, MODULE, 8702, 2, bodies["mlflow"], tracking),
            competitors.mlserver(root, venv, project, model_file, 8710, 1, bodies["mlserver"]),
            competitors.mlserver(root, venv, project, model_file, 8720, 0, bodies["mlserver"]),
            competitors.mlserver(root, venv, project, model_file, 8730, 2, bodies["mlserver"]),
            competitors.bare(root, project, 8703, 1, bodies["ours"]),
            competitors.bare(root, project, 8704, 2, bodies["ours"]),
        ]
        RAW.parent.mkdir(parents=True, exist_ok=True)
        tools = measure_rounds(servers, root, probed["reference"])
        versions = package_versions(project, "scikit-learn", "mlflow", "fastapi", "uvicorn", "pydantic")
        mlserver_versions = subprocess.run(
            [str(venv / "bin/python"), "-c", "import importlib.metadata as m; print(m.version('mlserver'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    summary = summarise(tools)
    results = {
        "summary": summary,
        "goals": goals(summary),
        "tools": tools,
        "tolerance": TOLERANCE,
        "compiled": probed["compiled"],
        "call_cost_ms": probed["cost_ms"],
        "batch_rows": BATCH_ROWS,
    }
    settings = {
        "seconds": SECONDS,
        "runs": RUNS,
        "rounds": True,  # each run of a point in its own round of every server (measure_rounds)
        "sweep": list(SWEEP),
        "batch_sweep": list(BATCH_SWEEP),
        "reported": list(REPORTED),
        "wrk_timeout_s": 30,
        "median_spread": round(
            statistics.median(
                max(p["runs_rps"]) / max(min(p["runs_rps"]), 0.1) - 1
                for variants in tools.values()
                for v in variants
                for p in v["single"].values()
            ),
            3,
        ),
    }
    run.write(results, settings, {**versions, "mlserver": mlserver_versions, "wrk": wrk_version()})
    print_tables("serving")


if __name__ == "__main__":
    main()
