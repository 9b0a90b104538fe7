"""Where the service's time goes: the cost of each step of a 1,000-record request, and a profile under load.

For a level-2 scikit-learn project and a level-2 PyTorch project, set up as a user does:

- in process, one thread, the median cost of each step of /predict for 1,000 records: decoding and
  validating the JSON (and, for comparison, pydantic's parse and validation), building the model's
  columns, the compiled feature transform, the estimator, encoding the answer and pickling the
  prediction log's entry for its writer process;
- the service itself (one process, the prediction log on) loaded by wrk with 1,000-record batches
  at 1 connection and single records at 16 connections, sampled by py-spy: the functions that held
  the interpreter (`--gil`), as a share of the samples, and the share of each thread.

Run: python benchmarks/serving_profile.py (BENCH_QUICK=1: 3 s profiles). Writes
benchmarks/results/serving_profile.json.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from common import QUICK, Run, package_versions, print_tables, project_env, trained_project
from load import ensure_wrk, start, stop, wrk, wrk_command

SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "10"))
BATCH_ROWS = 1000
TOP = 12
LOADS = {"batch": ("batch", 1), "single": ("single", 16)}  # body, connections
STEPS = """
import json, pickle, statistics, sys, time
from pathlib import Path
from threadpoolctl import threadpool_limits
from {module}.serving.compiled import columns_of
from {module}.serving.model_store import load_served_model
from {module}.serving.contract import REQUEST
from {module}.serving.validation import parse_json, read_predict_request
from {module}.serving.app import encode_predictions
from {module}.serving.service import Scored

threadpool_limits(limits=1)  # as the service scores
served = load_served_model("models:/{module}@champion")
body = Path(sys.argv[1]).read_bytes()


def median_ms(step, calls=100):
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples) * 1000, 3)


records = read_predict_request(body, 100_000)
columns = columns_of(records)
features = served.compiled.features.transform(columns)
probabilities = served.compiled.estimator.predict_proba(features)[:, 1]
scored = Scored("r", "v", probabilities, (probabilities >= 0.5).astype(int), [("v", "primary")] * len(records))
steps = {{
    "decode and validate (msgspec)": lambda: read_predict_request(body, 100_000),
    "model columns": lambda: columns_of(records),
    "compiled features": lambda: served.compiled.features.transform(columns),
    "estimator": lambda: served.compiled.estimator.predict_proba(features),
    "encode the answer": lambda: encode_predictions(scored),
    "pickle the log's entry for its writer process": lambda: pickle.dumps(
        (records, probabilities.tolist(), scored.labels.tolist(), scored.models), pickle.HIGHEST_PROTOCOL
    ),
    "for comparison: parse and validate with pydantic": lambda: REQUEST.validate_python(parse_json(body)),
}}
costs = {{name: median_ms(step) for name, step in steps.items()}}
print(json.dumps({{"estimator": type(served.compiled.estimator).__name__, "ms": costs}}))
"""


def bodies(project: Path, root: Path, module: str) -> dict[str, Path]:
    contract = yaml.safe_load((project / f"src/{module}/contract.yaml").read_text())
    names = [c["name"] for c in contract["model_input"]["columns"] if c.get("role") in ("id", "feature")]
    holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
    rows = json.loads(holdout[names].dropna().head(BATCH_ROWS).to_json(orient="records"))
    paths = {}
    for name, part in (("batch", rows), ("single", rows[:1])):
        paths[name] = root / f"{module}-{name}.json"
        paths[name].write_text(json.dumps({"records": part}))
    return paths


def step_costs(project: Path, module: str, body: Path, env: dict[str, str]) -> dict:
    script = body.parent / f"{module}-steps.py"
    script.write_text(STEPS.format(module=module))
    out = subprocess.run(
        ["python", str(script), str(body)], cwd=project, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def frame_name(frame: str) -> str:
    """`function (path:line)` as `function (file)`."""
    match = re.match(r"(.*) \((.*):\d+\)$", frame)
    return f"{match.group(1)} ({Path(match.group(2)).name})" if match else frame


def top_frames(raw: Path) -> dict:
    """Self samples per function and samples per thread, as shares of all samples, from py-spy's raw output."""
    own: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples = int(count)
        total += samples
        threads[frames[0].split(": ", 1)[-1].strip('"')] += samples  # "thread (id): name" -> name
        if len(frames) > 1:
            own[frame_name(frames[-1])] += samples

    def share(count: int) -> float:
        return round(count / max(total, 1), 4)

    return {
        "samples": total,
        "threads": {name: share(count) for name, count in threads.most_common()},
        "top": [[name, share(count)] for name, count in own.most_common(TOP)],
    }


def profile(project: Path, module: str, paths: dict[str, Path], env: dict[str, str], root: Path) -> dict:
    """py-spy on the running service while wrk loads it, for each load."""
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: `make setup` installs it")
    url = "http://127.0.0.1:8791/predict"
    process = start(
        ["python", "-m", module, "serve", "--port", "8791"],
        project,
        "http://127.0.0.1:8791/health/ready",
        {**env, "PREDICTION_LOG": str(root / f"{module}-log.db")},
        root / f"{module}-serve.log",
    )
    found = {}
    try:
        for load, (body, connections) in LOADS.items():
            wrk(url, paths[body], 2, connections)  # warm-up
            raw = root / f"{module}-{load}.txt"
            loader = subprocess.Popen(
                wrk_command(url, paths[body], SECONDS + 2, connections), stdout=subprocess.DEVNULL
            )
            sampling = ["--duration", str(SECONDS), "--rate", "200", "--gil", "--threads"]
            subprocess.run(
                [py_spy, "record", "--pid", str(process.pid), *sampling, "--format", "raw", "--output", str(raw)],
                capture_output=True,
                check=True,
            )
            loader.wait()
            found[load] = {"connections": connections, **top_frames(raw)}
    finally:
        stop(process)
    return found


def main() -> None:
    ensure_wrk()
    run = Run("serving_profile")
    results: dict[str, dict] = {}
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for framework in ("sklearn", "pytorch"):
            module = f"profile_{framework}"
            project = trained_project(
                root, module, maturity_level="2", model_framework=framework, project_name=f"profile {framework}"
            )
            env = project_env(project, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
            paths = bodies(project, root, module)
            results[framework] = {
                "steps": step_costs(project, module, paths["batch"], env),
                "profile": profile(project, module, paths, env, root),
            }
            names = ("scikit-learn", "fastapi", "uvicorn", "pydantic", *(("torch",) if framework == "pytorch" else ()))
            versions.update(package_versions(project, *names))
    py_spy = subprocess.run(["py-spy", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    run.write(
        {"by_framework": results, "batch_rows": BATCH_ROWS},
        {
            "seconds": SECONDS,
            "rate_hz": 200,
            "loads": {k: {"body": b, "connections": c} for k, (b, c) in LOADS.items()},
        },
        {**versions, "py-spy": py_spy},
    )
    print_tables("serving_profile")


if __name__ == "__main__":
    main()
