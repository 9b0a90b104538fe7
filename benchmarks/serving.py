"""The generated prediction service against `mlflow models serve` and a bare FastAPI endpoint.

All three serve on loopback on this machine, in one run, loaded by wrk (Debian package
`wrk`): the same registered model for ours and MLflow's, the same request bodies.

Run: python benchmarks/serving.py [seconds per measurement]
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from common import bake, measure, project_env, user_env

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.post("/predict")
async def predict() -> dict:
    return {"predictions": [{"label": 0, "probability": 0.5}], "model_version": "1", "request_id": "x"}
"""
WRK_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("{body}"):read()
{extra}
"""
PACED = "function delay() return {ms} end"  # each connection waits between requests: a fixed rate


def start(
    command: list[str], cwd: Path, port: int, env: dict[str, str] | None = None, health: str = "/docs"
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env or user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/health" if "mlflow" in command[0] else f"http://127.0.0.1:{port}/docs",
                timeout=1,
            )
            return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise RuntimeError(f"{' '.join(command)} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and every worker it spawned (mlflow's outlive their parent otherwise)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def wrk(url: str, body: Path, seconds: int, connections: int, script_dir: Path, paced_ms: int | None = None) -> dict:
    script = script_dir / f"wrk-{body.stem}-{paced_ms}.lua"
    extra = PACED.format(ms=paced_ms) if paced_ms else ""
    script.write_text(WRK_POST.format(body=body, extra=extra))
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: re.search(rf"{p}%\s+([\d.]+)(us|ms|s)", out) for p in ("50", "99")}
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rate,
        **{f"p{p}_ms": float(m.group(1)) * scale[m.group(2)] for p, m in latency.items()},
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def median_of(runs: int, measure_once: Callable[[], dict]) -> dict:
    """The run with the median throughput: a shared 2-core machine is noisy."""
    results = sorted((measure_once() for _ in range(runs)), key=lambda result: result["rps"])
    return results[len(results) // 2]


def main(seconds: int = 15) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = bake(root, maturity_level="2", model_framework="sklearn", project_name="bench serve")
        module, python, bin_ = "bench_serve", "python", project / ".venv/bin"
        measure([python, "-m", module, "generate"], project)
        measure([python, "-m", module, "pipeline"], project)
        holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
        columns = [c for c in holdout.columns if c not in ("gender", "churned")]
        features = [c for c in columns if c != "customer_id"]
        one, batch = holdout[columns].head(1).to_dict("records"), holdout[columns].head(1000).to_dict("records")
        bodies = {
            "ours-1": {"records": one},
            "ours-1000": {"records": batch},
            "mlflow-1": {"dataframe_records": holdout[features].head(1).to_dict("records")},
            "mlflow-1000": {"dataframe_records": holdout[features].head(1000).to_dict("records")},
        }
        paths = {}
        for name, payload in bodies.items():
            paths[name] = root / f"{name}.json"
            paths[name].write_text(json.dumps(payload))
        (root / "bare.py").write_text(BARE_APP)
        tracking = project_env(project, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")

        results: dict[str, dict] = {}
        server = start([python, "-m", module, "serve", "--port", "8701"], project, 8701, tracking)
        try:
            url = "http://127.0.0.1:8701/predict"
            wrk(url, paths["ours-1"], 3, 64, root)  # warm-up
            results["ours single"] = median_of(3, lambda: wrk(url, paths["ours-1"], seconds, 64, root))
            results["ours paced"] = wrk(url, paths["ours-1"], seconds, 10, root, paced_ms=45)
            results["ours batch"] = wrk(url, paths["ours-1000"], seconds, 1, root)
        finally:
            stop(server)
        mlflow_cmd = [str(bin_ / "mlflow"), "models", "serve", "-m", f"models:/{module}@champion"]
        server = start(
            [*mlflow_cmd, "--env-manager", "local", "-p", "8702", "-h", "127.0.0.1"], project, 8702, tracking
        )
        try:
            url = "http://127.0.0.1:8702/invocations"
            wrk(url, paths["mlflow-1"], 3, 64, root)
            results["mlflow single"] = median_of(3, lambda: wrk(url, paths["mlflow-1"], seconds, 64, root))
            results["mlflow batch"] = wrk(url, paths["mlflow-1000"], seconds, 1, root)
        finally:
            stop(server)
        bare = [str(bin_ / "uvicorn"), "--app-dir", str(root), "bare:app", "--port", "8703", "--no-access-log"]
        server = start(bare, root, 8703, project_env(project))
        try:
            url = "http://127.0.0.1:8703/predict"
            wrk(url, paths["ours-1"], 3, 64, root)
            results["bare single"] = median_of(3, lambda: wrk(url, paths["ours-1"], seconds, 64, root))
        finally:
            stop(server)

    ours, mlflow, ceiling = results["ours single"], results["mlflow single"], results["bare single"]
    print(f"## Serving, 2 cores, wrk on loopback, {seconds} s per run (single-record rows: median of 3)\n")
    print("| measurement | req/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|")
    labels = {
        "ours single": "this service, 1 record, 64 connections",
        "mlflow single": "`mlflow models serve`, 1 record, 64 connections",
        "bare single": "bare FastAPI returning a constant, 64 connections",
        "ours paced": "this service, 1 record, paced at ~200 req/s",
        "ours batch": "this service, 1000-record batch, 1 connection",
        "mlflow batch": "`mlflow models serve`, 1000-record batch, 1 connection",
    }
    for key, label in labels.items():
        r = results[key]
        print(f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |")
    print(f"\nsingle-record throughput: {ours['rps'] / mlflow['rps']:.1f}x `mlflow models serve`, "
          f"{100 * ours['rps'] / ceiling['rps']:.0f} % of the bare endpoint")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
