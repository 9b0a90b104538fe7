"""Soak: mixed valid and hostile traffic against a real level-2 service with the prediction log on.

A level-2 project is generated, set up with its own `make setup` and trained; its service runs as
`python -m <module> serve`. Clients send the cases of hostile.py (weighted: most traffic valid) for
SOAK_SECONDS while the service's resident memory is sampled every SOAK_SAMPLE_SECONDS. Then the
service is stopped with SIGTERM, as Kubernetes stops a pod, and the run fails unless:

- memory is bounded: the level it returns to between bursts (lower quartile) does not grow between
  the two halves of the run after warm-up (within max(32 MiB, 10 %)), and the peak stays under the
  pod's 1 GiB limit;
- no request got a 5xx, and every valid request got its 2xx;
- no log row is lost: every 200 prediction's request id is in the log with all its rows, every
  accepted feedback with all its labels;
- the service stops within its grace period.

Run: python benchmarks/soak.py (`make soak`); SOAK_SECONDS (default 1200), SOAK_CONCURRENCY (8),
SOAK_SAMPLE_SECONDS (5). Writes benchmarks/results/soak.json (also when it fails), exits 1 on failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import hostile
import httpx
import pandas as pd
import yaml
from common import Run, package_versions, print_tables, project_env, trained_project
from helpers import free_port

MODULE = "bench_soak"
SECONDS = int(os.environ.get("SOAK_SECONDS", "1200"))
CONCURRENCY = int(os.environ.get("SOAK_CONCURRENCY", "8"))
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_SECONDS", "5"))
FULL_SECONDS = 1200  # a shorter run is a trial, and its results say so
PEAK_LIMIT_MIB = 1024  # the pod's memory limit in the generated manifests
GROWTH_FLOOR_MIB = 32
GRACE_S = 60


def rss_mib(pid: int) -> float:
    """Resident memory of the process and its children."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def client(traffic: hostile.Traffic, deadline: float, log: dict[str, list]) -> None:
    names, weights = list(hostile.WEIGHTS), list(hostile.WEIGHTS.values())
    while time.monotonic() < deadline:
        case = traffic.rng.choices(names, weights)[0]
        started = time.perf_counter()
        try:
            outcome, size = await hostile.CASES[case](traffic)
        except httpx.TimeoutException:
            outcome, size = "client timeout", 0
        except httpx.TransportError as error:
            outcome, size = f"connection {type(error).__name__}", 0
        except Exception as error:  # an answer this client cannot read is an outcome too, never the end of the soak
            outcome, size = f"client {type(error).__name__}", 0
        log[case].append((outcome, (time.perf_counter() - started) * 1000, size))


async def sampler(pid: int, deadline: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        samples.append((round(time.monotonic() - start, 1), round(rss_mib(pid), 1)))
        await asyncio.sleep(SAMPLE_SECONDS)


async def drive(url: str, columns: list[dict], records: list[dict], pid: int) -> tuple[hostile.Traffic, dict, list]:
    # idle connections are dropped before the server's keep-alive timeout (uvicorn's is 5 s), so a
    # connection the server is closing is never reused: a broken connection is then the server's doing
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY, keepalive_expiry=2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        traffic = hostile.Traffic(url, f"/v2/models/{MODULE}/infer", http, columns, records, random.Random(0))
        log: dict[str, list] = defaultdict(list)
        samples: list[tuple[float, float]] = []
        deadline = time.monotonic() + SECONDS
        await asyncio.gather(
            sampler(pid, deadline, samples), *(client(traffic, deadline, log) for _ in range(CONCURRENCY))
        )
        samples.append((SECONDS, round(rss_mib(pid), 1)))
        dropped = {}
        try:
            text = (await http.get(url + "/metrics")).text
            dropped = {
                line.split()[0]: float(line.split()[1])
                for line in text.splitlines()
                if "dropped_total" in line and not line.startswith("#") and len(line.split()) == 2
            }
        except httpx.HTTPError:
            pass
    return traffic, {"log": log, "dropped": dropped}, samples


def floor(values: list[float]) -> float:
    """The level memory returns to between bursts: the lower quartile, so that spikes do not hide a leak."""
    return statistics.quantiles(values, n=4)[0] if len(values) > 1 else values[0]


def memory_verdict(samples: list[tuple[float, float]]) -> dict:
    """Growth of the memory floor between the halves of the run after the first fifth (warm-up); the peak."""
    values = [rss for _, rss in samples]
    warm = [rss for t, rss in samples if t >= SECONDS / 5] or values
    half = max(1, len(warm) // 2)
    first, second = floor(warm[:half]), floor(warm[half:] or warm)
    return {
        "start_mib": values[0],
        "peak_mib": max(values),
        "end_mib": values[-1],
        "floor_first_half_mib": round(first, 1),
        "floor_second_half_mib": round(second, 1),
        "growth_mib": round(second - first, 1),
        "bound_mib": round(max(GROWTH_FLOOR_MIB, 0.1 * first)),
        "samples": len(samples),
        "series": samples,
    }


def logged(db: Path) -> tuple[Counter, Counter]:
    with sqlite3.connect(db) as connection:
        predictions = Counter(dict(connection.execute("select request_id, count(*) from predictions group by 1")))
        feedback = Counter(dict(connection.execute("select request_id, count(*) from feedback group by 1")))
    return predictions, feedback


def stop_service(process: subprocess.Popen) -> tuple[float | None, str]:
    """SIGTERM and the seconds it took to exit (None: it hung and was killed)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=GRACE_S)
        return round(time.monotonic() - started, 1), ""
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None, f"the service did not stop within {GRACE_S} s of SIGTERM"


def wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/health/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit(f"the service did not become ready:\n{log.read_text(errors='replace')[-3000:]}")


def main() -> int:
    run = Run("soak")
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = trained_project(
            root, MODULE, "--size", "0.25", maturity_level="2", model_framework="sklearn", project_name="bench soak"
        )
        contract = yaml.safe_load((project / f"src/{MODULE}/contract.yaml").read_text())
        columns = [c for c in contract["model_input"]["columns"] if c.get("role") in ("id", "feature")]
        holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
        records = json.loads(holdout[[c["name"] for c in columns]].dropna().to_json(orient="records"))

        db, port = root / "predictions.db", free_port()
        env = project_env(project, PREDICTION_LOG=str(db), MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
        output = (root / "service.log").open("w")
        process = subprocess.Popen(
            ["python", "-m", MODULE, "serve", "--port", str(port)],
            cwd=project, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process, root / "service.log")
        traffic, observed, samples = asyncio.run(drive(url, columns, records, process.pid))
        stop_seconds, hung = stop_service(process)
        failures += [hung] if hung else []
        service_log = (root / "service.log").read_text(errors="replace")
        predictions, feedback = logged(db)
        versions = package_versions(project, "fastapi", "uvicorn", "pydantic", "httptools")

    cases = {}
    for case, entries in observed["log"].items():
        latencies = sorted(latency for _, latency, _ in entries)
        cases[case] = {
            "count": len(entries),
            "outcomes": dict(Counter(outcome for outcome, _, _ in entries)),
            "p50_ms": round(latencies[len(latencies) // 2], 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "max_ms": round(latencies[-1], 2),
            "max_response_bytes": max(size for _, _, size in entries),
        }
    server_errors = {
        case: sum(n for outcome, n in c["outcomes"].items() if outcome.startswith("5")) for case, c in cases.items()
    }
    if sum(server_errors.values()):
        failures.append("5xx answers: " + ", ".join(f"{case} {n}" for case, n in server_errors.items() if n))
    refused_valid = {
        case: sum(n for outcome, n in cases[case]["outcomes"].items() if not outcome.startswith(("2", hostile.IDLE)))
        for case in hostile.VALID
        if case in cases
    }
    if sum(refused_valid.values()):
        failures.append("valid requests without a 2xx: " + ", ".join(f"{c} {n}" for c, n in refused_valid.items() if n))

    expected = Counter()
    for request_id, rows in traffic.answered:
        expected[request_id] += rows
    lost = {rid: rows - predictions.get(rid, 0) for rid, rows in expected.items() if predictions.get(rid, 0) < rows}
    if lost:
        failures.append(f"{sum(lost.values())} answered prediction rows of {len(lost)} requests missing from the log")
    expected_feedback: dict[str, int] = {}
    for request_id, labels in traffic.feedback:
        expected_feedback[request_id] = max(labels, expected_feedback.get(request_id, 0))
    lost_feedback = {rid: n for rid, n in expected_feedback.items() if feedback.get(rid, 0) < n}
    if lost_feedback:
        failures.append(f"accepted feedback of {len(lost_feedback)} requests missing from the log")

    memory = memory_verdict(samples)
    if memory["growth_mib"] > memory["bound_mib"]:
        failures.append(f"memory grew {memory['growth_mib']} MiB over the run (bound {memory['bound_mib']} MiB)")
    if memory["peak_mib"] > PEAK_LIMIT_MIB:
        failures.append(f"memory peaked at {memory['peak_mib']:.0f} MiB, over the pod's {PEAK_LIMIT_MIB} MiB limit")

    results = {
        "passed": not failures,
        "failures": failures,
        "requests": sum(c["count"] for c in cases.values()),
        "answered_rows": sum(expected.values()),
        "logged_rows": sum(min(predictions.get(rid, 0), rows) for rid, rows in expected.items()),
        "lost_rows": sum(lost.values()),
        "accepted_feedback": len(expected_feedback),
        "lost_feedback": len(lost_feedback),
        "server_errors": sum(server_errors.values()),
        "dropped_counters": observed["dropped"],
        "stop_seconds": stop_seconds,
        "tracebacks_in_service_log": service_log.count("Traceback"),
        "memory": memory,
        "cases": cases,
    }
    settings = {
        "seconds": SECONDS,
        "concurrency": CONCURRENCY,
        "sample_seconds": SAMPLE_SECONDS,
        "weights": hostile.WEIGHTS,
        "trial": SECONDS < FULL_SECONDS,
    }
    path = run.write(results, settings, versions, quick=SECONDS < FULL_SECONDS)
    print_tables("soak")
    print(f"results: {path}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if service_log.count("Traceback"):
        print(service_log[-4000:], file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
