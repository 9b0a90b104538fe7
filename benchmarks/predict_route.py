"""POST /predict as a plain FastAPI route against a bypass that answers it before FastAPI.

The bypass (an ASGI layer in front of FastAPI answering /predict itself, with its own error path
and a hand-written OpenAPI entry) is worth its code only if it buys at least 15 % more requests
per second at 16 connections; it did not, so the service routes /predict through FastAPI and the
bypass lives on here only, to be measured again. One level-2 scikit-learn project, set up as a user does, served twice at once
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
from common import QUICK, Run, bake, measure, package_versions, print_tables, project_env
from load import ensure_wrk, start, stop, wrk, wrk_version

MODULE = "bench_route"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "10"))
RUNS = 3
CONNECTIONS = (16, 64)
KEEP_AT = 16  # the bypass is kept only if it buys MIN_GAIN at this many connections
MIN_GAIN = 0.15
PORTS = {"bypass": 8741, "route": 8742}
# the service exactly as `serve` runs it; for "bypass", /predict is answered by an ASGI layer between the
# Guard and FastAPI, as the service shipped it until this benchmark measured it (it no longer does)
LAUNCH = """
import json
import sys

import uvicorn
from {module}.serving.app import create_app
from {module}.serving.server import bounded_http
from {module}.serving.settings import Settings
from {module}.serving.service import NotReady
from {module}.serving.validation import Refused, read_predict_request


class Bypass:
    def __init__(self, app, service, settings):
        self.app, self.service, self.settings = app, service, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/predict":
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:  # the Guard has read and bounded the body already: this is its replay
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        scope["endpoint"] = self  # the Guard labels the metrics by path
        request_id = scope["state"]["request_id"]
        try:
            records = read_predict_request(body, self.settings.max_rows)
            scored = await self.service.predict(records, request_id)
        except Refused as refusal:
            status, payload = refusal.status, {{"detail": refusal.detail, "request_id": request_id}}
        except NotReady as error:
            status, payload = 503, {{"detail": f"not ready: {{error}}", "request_id": request_id}}
        else:
            scope["state"]["model_version"] = scored.model_version
            predictions = [
                {{"label": label, "probability": probability, "model_version": version}}
                for label, probability, (version, _) in zip(
                    scored.labels.tolist(), scored.probabilities.tolist(), scored.models, strict=True
                )
            ]
            status = 200
            payload = {{"predictions": predictions, "model_version": scored.model_version, "request_id": request_id}}
        data = json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({{"type": "http.response.start", "status": status, "headers": headers}})
        await send({{"type": "http.response.body", "body": data}})


settings = Settings.from_env()
app = create_app(settings)
if sys.argv[2] == "bypass":
    app.app = Bypass(app.app, app.state.service, settings)
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


def summary(runs: list[dict]) -> dict:
    """Medians of the runs (throughput and p99 each), with every run beside them."""
    return {
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "errors": sum(r["non_2xx"] + r["socket_errors"] + r["timeouts"] for r in runs),
        "runs_rps": [round(r["rps"], 1) for r in runs],
        "runs_p99_ms": [r["p99_ms"] for r in runs],
    }


def main() -> None:
    ensure_wrk()
    run = Run("predict_route")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = bake(root, maturity_level="2", model_framework="sklearn", project_name="bench route")
        measure(["python", "-m", MODULE, "generate"], project)
        measure(["python", "-m", MODULE, "pipeline"], project)
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
                        measured[variant][str(connections)].append(wrk(url, single, SECONDS, connections))
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
        "keep_bypass": gains[str(KEEP_AT)] >= MIN_GAIN,
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
