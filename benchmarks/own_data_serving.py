"""Single-record serving on the churn example against the same project after `make adopt`.

The compiled scoring path must cover the generic feature pipeline (imputation, scaling,
encoding, selection) that an adopted table gets, not only the example's: after `adopt`,
single-record throughput should stay within 25 % of the example's. One project, set up as a
user does, served before and after adopting a real public table (ACTG 175, shipped inside the
`lifelines` wheel), loaded by wrk at 16 connections in the same run.

Run: python benchmarks/own_data_serving.py [seconds per measurement, default 10; BENCH_QUICK=1: 3]
Writes benchmarks/results/own_data_serving.json.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from common import QUICK, Run, bake, measure, package_versions, print_tables, project_env
from helpers import packaged_table, request_record
from load import ensure_wrk, start, stop, warm_median, wrk_version

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


def serve_and_load(project: Path, body: Path, name: str, seconds: int) -> dict:
    port = PORTS[name]
    health = f"http://127.0.0.1:{port}/health/ready"
    server = start(["make", "serve", f"PORT={port}"], project, health, project_env(project))
    try:
        url = f"http://127.0.0.1:{port}/predict"
        return warm_median(url, body, seconds, CONNECTIONS)
    finally:
        stop(server)


def main(seconds: int) -> dict:
    ensure_wrk()
    run = Run("own_data_serving")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = bake(root, maturity_level="1", model_framework="sklearn", project_name="bench own data")
        measure(["make", "pipeline"], project)
        holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
        example_body = root / "example.json"
        example_body.write_text(json.dumps({"records": [request_record(project, holdout.dropna().iloc[0])]}))
        results = {"example": serve_and_load(project, example_body, "example", seconds)}
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
        results["adopted"] = serve_and_load(project, adopted_body, "adopted", seconds)
        results["adopted"]["trees"] = trees(project)

        versions = package_versions(project, "scikit-learn", "fastapi", "uvicorn")
    ratio = results["adopted"]["rps"] / results["example"]["rps"]
    report = {**results, "adopted_over_example": round(ratio, 3)}
    settings = {"connections": CONNECTIONS, "seconds": seconds, "runs": 3}
    run.write(report, settings, {**versions, "wrk": wrk_version()})
    print_tables("own_data_serving")
    return report


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3 if QUICK else 10)
