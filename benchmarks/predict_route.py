"""POST /predict answered by the Guard's bypass against the same handler as a plain FastAPI route.

The bypass (the ASGI layer in front of FastAPI answers /predict itself, with its own error path
and a hand-written OpenAPI entry) is worth its code only if it buys at least 15 % more requests
per second at 16 connections. One level-2 scikit-learn project, set up as a user does, served twice at once
(same model, same settings, the prediction log on, as shipped): once with the bypass, once with
/predict routed through FastAPI. Both must give the same answers and the same refusals. wrk sends
single-record requests at 16 and 64 connections; the two variants take turns (A, B, A, B, A, B) so
a busy machine weighs on both alike; each figure is the median of 3 runs.

Run: python benchmarks/predict_route.py (BENCH_QUICK=1: 3 s runs; BENCH_SECONDS=n sets the run
length). Writes benchmarks/results/predict_route.json.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import yaml
from common import QUICK, Run, package_versions, print_tables, project_env, trained_project
from load import ensure_wrk, start, stop, wrk, wrk_version

MODULE = "bench_route"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "10"))
RUNS = 3
CONNECTIONS = (16, 64)
KEEP_AT = 16  # the bypass is kept only if it buys MIN_GAIN at this many connections
MIN_GAIN = 0.15
PORTS = {"bypass": 8741, "route": 8742}
# the service exactly as `serve` runs it; for "route", the Guard's /predict handler is a FastAPI route instead
LAUNCH = """
import sys

import uvicorn
from fastapi import Request
from fastapi.responses import JSONResponse
from {module}.serving.app import create_app
from {module}.serving.server import bounded_http
from {module}.serving.settings import Settings

settings = Settings.from_env()
app = create_app(settings)
if sys.argv[2] == "route":
    handler, app.fast_routes = app.fast_routes.pop("/predict"), {{}}

    @app.app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        status, payload, version = await handler(await request.body(), request.state.request_id)
        request.state.model_version = version
        return JSONResponse(payload, status_code=status)

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=bounded_http(settings), access_log=False)
"""
# requests both variants must refuse alike: (name, body)
REFUSALS = (
    ("invalid JSON", b"{"),
    ("no records", b'{"records": []}'),
    ("unknown field", b'{"records": [{}], "extra": 1}'),
    ("wrong type", b'{"records": [{"age": "old"}]}'),
)


def post(url: str, body: bytes) -> tuple[int, dict]:
    """Status and JSON answer, without the request id (unique per answer)."""
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, payload = answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        status, payload = error.code, json.loads(error.read())
    payload.pop("request_id", None)
    return status, payload


def check_same_answers(urls: dict[str, str], batch: Path, max_rows: int) -> None:
    """Both variants answer the same probabilities and refuse bad requests with the same status and body."""
    too_many = json.dumps({"records": [{}] * (max_rows + 1)}).encode()
    for name, body in (("batch", batch.read_bytes()), *REFUSALS, ("too many rows", too_many)):
        answers = {variant: post(url, body) for variant, url in urls.items()}
        assert answers["bypass"] == answers["route"], f"{name}: {answers}"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loaded(url: str, body: Path, connections: int, pid: int) -> dict:
    """One wrk run, with the server's CPU time per answered request (what load on the machine barely moves)."""
    before = cpu_seconds(pid)
    result = wrk(url, body, SECONDS, connections)
    result["cpu_ms"] = round(1000 * (cpu_seconds(pid) - before) / max(result["requests"], 1), 3)
    return result


def summary(runs: list[dict]) -> dict:
    """Medians of the runs (throughput and p99 each), with every run beside them."""
    return {
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "cpu_ms": round(statistics.median(r["cpu_ms"] for r in runs), 3),
        "errors": sum(r["non_2xx"] + r["socket_errors"] + r["timeouts"] for r in runs),
        "runs_rps": [round(r["rps"], 1) for r in runs],
        "runs_p99_ms": [r["p99_ms"] for r in runs],
    }


def main() -> None:
    ensure_wrk()
    run = Run("predict_route")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = trained_project(
            root, MODULE, maturity_level="2", model_framework="sklearn", project_name="bench route"
        )
        contract = yaml.safe_load((project / f"src/{MODULE}/contract.yaml").read_text())
        names = [c["name"] for c in contract["model_input"]["columns"] if c.get("role") in ("id", "feature")]
        rows = json.loads(
            pd.read_parquet(project / "data/processed/holdout.parquet")[names]
            .dropna()
            .head(100)
            .to_json(orient="records")
        )
        single, batch = root / "single.json", root / "batch.json"
        single.write_text(json.dumps({"records": rows[:1]}))
        batch.write_text(json.dumps({"records": rows}))
        (root / "launch.py").write_text(LAUNCH.format(module=MODULE))
        env = project_env(project, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
        servers = {}
        try:
            for variant, port in PORTS.items():
                log = root / f"{variant}.log"
                env_variant = {**env, "PREDICTION_LOG": str(root / f"{variant}.db")}
                command = ["python", str(root / "launch.py"), str(port), variant]
                servers[variant] = start(command, project, f"http://127.0.0.1:{port}/health/ready", env_variant, log)
            urls = {variant: f"http://127.0.0.1:{port}/predict" for variant, port in PORTS.items()}
            check_same_answers(urls, batch, 1000)
            for url in urls.values():
                wrk(url, single, 2, 16)  # warm-up
            measured: dict[str, dict[str, list[dict]]] = {v: {str(c): [] for c in CONNECTIONS} for v in PORTS}
            for connections in CONNECTIONS:
                for _ in range(RUNS):
                    for variant, url in urls.items():  # A, B, A, B, A, B
                        measured[variant][str(connections)].append(
                            loaded(url, single, connections, servers[variant].pid)
                        )
        finally:
            for process in servers.values():
                stop(process)
        versions = package_versions(project, "fastapi", "starlette", "uvicorn", "pydantic")

    variants = {variant: {c: summary(runs) for c, runs in by_c.items()} for variant, by_c in measured.items()}
    gains = {c: round(variants["bypass"][c]["rps"] / variants["route"][c]["rps"] - 1, 3) for c in map(str, CONNECTIONS)}
    # each bypass run over the route run beside it: the load of that moment cancels out
    paired = {
        c: round(
            statistics.median(
                b["rps"] / r["rps"] for b, r in zip(measured["bypass"][c], measured["route"][c], strict=True)
            )
            - 1,
            3,
        )
        for c in map(str, CONNECTIONS)
    }
    results = {
        "variants": variants,
        "bypass_gain": gains,
        "paired_gain": paired,
        "cpu_gain": {  # requests per CPU-second, bypass over route
            c: round(variants["route"][c]["cpu_ms"] / variants["bypass"][c]["cpu_ms"] - 1, 3)
            for c in map(str, CONNECTIONS)
        },
        # the paired ratio: the variants ran in turns, and the load of each moment weighs on both
        "keep_bypass": paired[str(KEEP_AT)] >= MIN_GAIN,
    }
    settings = {
        "seconds": SECONDS,
        "runs": RUNS,
        "connections": list(CONNECTIONS),
        "keep_at": KEEP_AT,
        "min_gain": MIN_GAIN,
    }
    run.write(results, settings, {**versions, "wrk": wrk_version()})
    print_tables("predict_route")


if __name__ == "__main__":
    main()
