"""The feature store's cost: online lookups, and requests by id against requests with full records.

One level-2 project with `feature_store=feast`, set up as a user does, its pipeline run on a
quarter-size sample (materialize fills the local SQLite online store). First the lookup alone,
in the project's environment: the time of `online_features` for 1 and for 100 ids. Then the
service under `make serve`, loaded by wrk with single-record requests at 16 connections: the
same entity sent as its full record and by id, in the same run.

Run: python benchmarks/feature_store.py [seconds per measurement, default 10; BENCH_QUICK=1: 3]
Writes benchmarks/results/feature_store.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import QUICK, Run, bake, measure, package_versions, print_tables, project_env
from helpers import holdout_records
from load import ensure_wrk, start, stop, warm_median, wrk_version

MODULE = "bench_feature_store"
CONNECTIONS = 16
PORT = 8721
# times online_features for batches of ids; prints {size: [milliseconds per call, ...]}
LOOKUP_PROBE = """
import json, sys, time
import pandas as pd
from {m}.features.store import online_features, open_store
from {m}.schema import ID
ids = pd.read_parquet("data/interim/model_input.parquet")[ID].tolist()
store, repeats, timings = open_store(), int(sys.argv[1]), {{}}
for size in (1, 100):
    online_features(store, ids[:size])  # warm-up: the registry is read on first use
    runs = []
    for i in range(repeats):
        batch = ids[(i * size) % (len(ids) - size):][:size]
        start = time.perf_counter()
        online_features(store, batch)
        runs.append((time.perf_counter() - start) * 1000)
    timings[size] = runs
print(json.dumps(timings))
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def lookups(project: Path, repeats: int) -> dict:
    out = subprocess.run(
        ["python", "-c", LOOKUP_PROBE.format(m=MODULE), str(repeats)],
        cwd=project, env=project_env(project), capture_output=True, text=True, check=True,
    )  # fmt: skip
    timings = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        size: {"p50_ms": round(percentile(runs, 0.5), 3), "p99_ms": round(percentile(runs, 0.99), 3)}
        for size, runs in timings.items()
    }


def load(project: Path, bodies: dict[str, Path], seconds: int) -> dict:
    server = start(
        ["make", "serve", f"PORT={PORT}"], project, f"http://127.0.0.1:{PORT}/health/ready", project_env(project)
    )
    try:
        url, results = f"http://127.0.0.1:{PORT}/predict", {}
        for name, body in bodies.items():
            results[name] = warm_median(url, body, seconds, CONNECTIONS)
        return results
    finally:
        stop(server)


def main(seconds: int) -> dict:
    ensure_wrk()
    run = Run("feature_store")
    repeats = 200 if QUICK else 2000
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = bake(root, maturity_level="2", feature_store="feast", project_name="bench feature store")
        measure(["python", "-m", MODULE, "generate", "--size", "0.25"], project)
        pipeline_s, _ = measure(["python", "-m", MODULE, "pipeline"], project)
        report = {"lookup": lookups(project, repeats), "pipeline_s": round(pipeline_s, 1)}
        (record,) = holdout_records(project, 1)
        bodies = {"full_record": root / "full.json", "by_id": root / "id.json"}
        bodies["full_record"].write_text(json.dumps({"records": [record]}))
        bodies["by_id"].write_text(json.dumps({"records": [{"customer_id": record["customer_id"]}]}))
        report["serving"] = load(project, bodies, seconds)
        versions = package_versions(project, "feast", "pandas", "fastapi", "uvicorn")
    report["by_id_over_full_record"] = round(
        report["serving"]["by_id"]["rps"] / report["serving"]["full_record"]["rps"], 3
    )
    settings = {"connections": CONNECTIONS, "seconds": seconds, "runs": 3, "lookup_repeats": repeats, "size": 0.25}
    run.write(report, settings, {**versions, "wrk": wrk_version()})
    print_tables("feature_store")
    return report


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3 if QUICK else 10)
