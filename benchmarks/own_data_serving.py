"""Single-record serving on the churn example against the same project after `make adopt`.

The compiled scoring path must cover the generic feature pipeline (imputation, scaling,
encoding, selection) that an adopted table gets, not only the example's: after `adopt`,
single-record throughput should stay within 25 % of the example's. One project, set up as a
user does, served before and after adopting a real public table (ACTG 175, shipped inside the
`lifelines` wheel), loaded by wrk at 16 connections in the same run.

Run: python benchmarks/own_data_serving.py [seconds per measurement]
Writes benchmarks/results/own_data_serving.json and prints the table for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from common import bake, measure, project_env
from helpers import packaged_table, request_record
from serving import median_of, start, stop, wrk

RESULTS = Path(__file__).resolve().parent / "results" / "own_data_serving.json"
CONNECTIONS = 16
PORTS = {"example": 8711, "adopted": 8712}


def actg175() -> Path:
    return packaged_table("lifelines", "0.30.3", "lifelines/datasets/ACTG175.csv")


def trees(project: Path) -> int:
    """Boosting iterations of the project's model: the estimator's share of a request's cost."""
    probe = "from pathlib import Path; from {m}.models.persistence import load_model; "
    probe += "print(load_model(Path('models/model')).steps[-1][1].n_iter_)"
    module = next(project.glob("src/*/contract.yaml")).parent.name
    out = subprocess.run(
        ["python", "-c", probe.format(m=module)], cwd=project, env=project_env(project), capture_output=True, text=True
    )
    return int(out.stdout.strip())


def serve_and_load(project: Path, body: Path, name: str, seconds: int, scratch: Path) -> dict:
    port = PORTS[name]
    server = start(["make", "serve", f"PORT={port}"], project, port, project_env(project))
    try:
        url = f"http://127.0.0.1:{port}/predict"
        wrk(url, body, 3, CONNECTIONS, scratch)  # warm-up
        return median_of(3, lambda: wrk(url, body, seconds, CONNECTIONS, scratch))
    finally:
        stop(server)


def main(seconds: int = 10) -> dict:
    assert shutil.which("wrk"), "apt-get install wrk"
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = bake(root, maturity_level="1", model_framework="sklearn", project_name="bench own data")
        measure(["make", "pipeline"], project)
        holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
        example_body = root / "example.json"
        example_body.write_text(json.dumps({"records": [request_record(project, holdout.dropna().iloc[0])]}))
        results = {"example": serve_and_load(project, example_body, "example", seconds, root)}
        results["example"]["trees"] = trees(project)

        data = root / "ACTG175.csv"
        shutil.copy(actg175(), data)
        adopt = ["make", "adopt", f"DATA={data}", "TARGET=cens", "ID=pidnum", "SENSITIVE=race gender"]
        subprocess.run(adopt, cwd=project, env=project_env(project), check=True, capture_output=True)
        # early stopping gave the example's 16,000-row model fewer trees than a 1,700-row table gets:
        # the same number of trees on both sides leaves the serving path as the only difference
        params = project / "params.yaml"
        params.write_text(
            re.sub(r"(?m)^(    max_iter: )250", rf"\g<1>{results['example']['trees']}", params.read_text())
        )
        measure(["make", "pipeline"], project)
        adopted_body = root / "adopted.json"
        adopted_body.write_text(json.dumps({"records": [request_record(project, pd.read_csv(data).dropna().iloc[0])]}))
        results["adopted"] = serve_and_load(project, adopted_body, "adopted", seconds, root)
        results["adopted"]["trees"] = trees(project)

    ratio = results["adopted"]["rps"] / results["example"]["rps"]
    report = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "connections": CONNECTIONS,
        "seconds": seconds,
        "results": results,
        "adopted_over_example": round(ratio, 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"## Serving after `make adopt`, {CONNECTIONS} connections, wrk, median of 3 x {seconds} s\n")
    print("| model | trees | req/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|")
    labels = {
        "example": "churn example (17 columns, constructed features)",
        "adopted": "ACTG 175 adopted (23 features)",
    }
    for key, label in labels.items():
        r = results[key]
        print(f"| {label} | {r['trees']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |")
    print(f"\nadopted / example single-record throughput: {ratio:.2f}")
    return report


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
