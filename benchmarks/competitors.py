"""The servers of the serving benchmark, each as a user would run it, with the same requests in its own format.

- this project's service: `python -m <module> serve`, the prediction log on, as shipped: one process,
  and two worker processes (`WORKERS=2`);
- `mlflow models serve` of the same registered model (the local environment, 1 or 2 uvicorn workers);
- MLServer with its scikit-learn runtime, in its own virtual environment made here with uv, serving
  the same fitted pipeline saved with joblib, on its V2 endpoint with the pandas codec
  (`parallel_workers` 1, its default, 0: inference in the server process, or 2: one per core);
- a bare FastAPI endpoint returning a constant: the HTTP ceiling of the same stack (uvicorn, one
  process or `--workers 2`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import project_env, user_env

MLSERVER_VERSION = "1.7.1"
# the packages the pickled pipeline needs, pinned to the versions of the project's environment
MODEL_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "joblib", "pyyaml")
V2_DATATYPES = {"int": "INT64", "float": "FP64", "category": "BYTES"}
BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.post("/predict")
async def predict() -> dict:
    return {"predictions": [{"label": 0, "probability": 0.5}], "model_version": "1", "request_id": "x"}
"""


@dataclass
class Server:
    """One server configuration: how to start it, where to send requests, how to read its probabilities."""

    tool: str
    variant: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    health_url: str
    url: str
    bodies: dict[str, Path] = field(default_factory=dict)  # "single", "batch"
    reader: str = "ours"  # the shape of its answers (see probabilities)


def probabilities(server: Server, answer: dict[str, Any]) -> list[float]:
    """The positive class's probability of each row, from this server's answer."""
    if server.reader == "ours":
        return [prediction["probability"] for prediction in answer["predictions"]]
    if server.reader == "mlflow":
        return [float(value) for value in answer["predictions"]]
    output = next(output for output in answer["outputs"] if output["name"] == "predict_proba")
    return [float(value) for value in output["data"][1::2]]  # [n, 2] flattened: take column 1


def post(url: str, body: Path) -> dict[str, Any]:
    request = urllib.request.Request(url, body.read_bytes(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def write_bodies(root: Path, columns: list[dict[str, Any]], records: list[dict[str, Any]]) -> dict[str, dict]:
    """Request bodies for one record and for the 1,000-record batch, in each server's format."""
    features = [c["name"] for c in columns if c["role"] == "feature"]
    ours_names = [c["name"] for c in columns]

    def v2(rows: list[dict[str, Any]]) -> dict[str, Any]:
        inputs = []
        for column in columns:
            if column["role"] != "feature":
                continue
            tensor = {
                "name": column["name"],
                "shape": [len(rows)],
                "datatype": V2_DATATYPES[column["dtype"]],
                "data": [row[column["name"]] for row in rows],
            }
            if column["dtype"] == "category":
                tensor["parameters"] = {"content_type": "str"}
            inputs.append(tensor)
        return {"parameters": {"content_type": "pd"}, "inputs": inputs, "outputs": [{"name": "predict_proba"}]}

    formats = {
        "ours": lambda rows: {"records": [{name: row[name] for name in ours_names} for row in rows]},
        "mlflow": lambda rows: {"dataframe_records": [{name: row[name] for name in features} for row in rows]},
        "mlserver": v2,
    }
    paths: dict[str, dict] = {}
    for name, shape in formats.items():
        paths[name] = {}
        for size, rows in (("single", records[:1]), ("batch", records)):
            path = root / f"{name}-{size}.json"
            path.write_text(json.dumps(shape(rows)))
            paths[name][size] = path
    return paths


def variant(workers: int) -> str:
    return "1 process" if workers == 1 else f"{workers} workers"


def ours(
    project: Path, module: str, port: int, workers: int, bodies: dict[str, Path], tracking: dict[str, str]
) -> Server:
    return Server(
        "ours",
        variant(workers),
        ["python", "-m", module, "serve", "--port", str(port)],
        project,
        {**tracking, "WORKERS": str(workers)},
        f"http://127.0.0.1:{port}/health/ready",
        f"http://127.0.0.1:{port}/predict",
        bodies,
        "ours",
    )


def mlflow(project: Path, module: str, port: int, workers: int, bodies: dict[str, Path], tracking: dict) -> Server:
    command = [str(project / ".venv/bin/mlflow"), "models", "serve", "-m", f"models:/{module}@champion"]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", str(workers)]
    return Server(
        "mlflow",
        f"{workers} worker{'s' * (workers > 1)}",
        command,
        project,
        {**tracking, "UVICORN_ACCESS_LOG": "false"},  # no access log, as ours and the bare endpoint
        f"http://127.0.0.1:{port}/health",
        f"http://127.0.0.1:{port}/invocations",
        bodies,
        "mlflow",
    )


def mlserver_environment(root: Path, project: Path) -> Path:
    """MLServer and its scikit-learn runtime in their own venv (uv), with the project's model packages."""
    pins = subprocess.run(
        ["python", "-c", "import importlib.metadata as m, sys; print(' '.join(f'{n}=={m.version(n)}' for n in sys.argv[1:]))",
         *MODEL_PACKAGES],
        cwd=project, env=project_env(project), capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    venv = root / "mlserver-venv"
    python = subprocess.run(
        ["python", "-c", "import sys; print(sys.executable)"],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "--quiet", "--python", python, str(venv)], env=user_env(), check=True)
    # MLServer's inference-pool workers call asyncio.get_event_loop() outside a loop, which uvloop 0.22 refuses
    packages = [f"mlserver=={MLSERVER_VERSION}", f"mlserver-sklearn=={MLSERVER_VERSION}", "uvloop<0.22", *pins]
    subprocess.run(
        [*uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), *packages],
        env=user_env(),
        check=True,
    )
    return venv


def mlserver(
    root: Path, venv: Path, project: Path, model: Path, port: int, workers: int, bodies: dict[str, Path]
) -> Server:
    """MLServer serving the joblib file; the project's src on PYTHONPATH so its transformers unpickle."""
    folder = root / f"mlserver-{workers}"
    (folder / "model").mkdir(parents=True, exist_ok=True)
    settings = {
        "http_port": port,
        "grpc_port": port + 1,
        "metrics_port": port + 2,
        "metrics_dir": str(folder / "metrics"),
        "parallel_workers": workers,
        "host": "127.0.0.1",
        "debug": False,  # its default (True) logs every request
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": "model",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(model), "version": "1"},
    }
    (folder / "model" / "model-settings.json").write_text(json.dumps(model_settings))
    env = user_env(PYTHONPATH=str(project / "src"), OMP_NUM_THREADS="1")
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    return Server(
        "mlserver",
        f"`parallel_workers` {workers}" + (" (its default)" if workers == 1 else ""),
        [str(venv / "bin/mlserver"), "start", str(folder)],
        folder,
        env,
        f"http://127.0.0.1:{port}/v2/models/model/ready",
        f"http://127.0.0.1:{port}/v2/models/model/infer",
        bodies,
        "mlserver",
    )


def bare(root: Path, project: Path, port: int, workers: int, bodies: dict[str, Path]) -> Server:
    (root / "bare.py").write_text(BARE_APP)
    command = [str(project / ".venv/bin/uvicorn"), "--app-dir", str(root), "bare:app", "--port", str(port)]
    return Server(
        "bare",
        variant(workers) if workers == 1 else f"`--workers {workers}`",
        [*command, "--no-access-log", "--workers", str(workers)],
        root,
        project_env(project),
        f"http://127.0.0.1:{port}/docs",
        f"http://127.0.0.1:{port}/predict",
        {"single": bodies["single"]},
        "none",
    )
