"""Servers as processes and wrk as the load generator: start, wait for health, load, stop.

wrk (Debian package `wrk`) runs on the same machine, so it takes part of the cores; every
server is measured the same way. Its timeout is raised to 30 s so a slow server shows its real
latency instead of wrk's cut-off, and timeouts and socket errors are reported with the figures.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from common import user_env

WRK_TIMEOUT_S = 30
WRK_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local body = io.open("{body}", "rb")
wrk.body = body:read("*a")
body:close()
"""
SCALE_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def ensure_wrk() -> str:
    """wrk's path; installs the Debian package when it is missing and this is root on a Debian-like system."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True, check=False)
        found = shutil.which("wrk")
        if found is None:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True, check=False)
            found = shutil.which("wrk")
    if found is None:
        raise SystemExit("the serving benchmarks need wrk: apt-get install wrk (or brew install wrk)")
    return found


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).split("Copyright")[0].strip()


def start(
    command: list[str], cwd: Path, health_url: str, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group and wait until health_url answers 200."""
    output = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        command, cwd=cwd, env=env or user_env(), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(health_url, timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    raise RuntimeError(f"{' '.join(command)} did not become healthy at {health_url}\n{tail}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and every worker it spawned (mlflow's and MLServer's outlive their parent otherwise)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with contextlib.suppress(ProcessLookupError):  # workers left in the group after the parent exited
        os.killpg(process.pid, signal.SIGKILL)


def wrk_command(url: str, body: Path, seconds: int, connections: int) -> list[str]:
    """The wrk command line that POSTs body to url (its Lua script written beside the body)."""
    script = body.with_suffix(".lua")
    if not script.exists():
        script.write_text(WRK_POST.format(body=body))
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_S}s"]
    return [*command, "--latency", "-s", str(script), url]


def wrk(url: str, body: Path, seconds: int, connections: int) -> dict:
    """One wrk run of POST body to url: throughput, p50/p99 latency, errors of every kind."""
    out = subprocess.run(
        wrk_command(url, body, seconds, connections), capture_output=True, text=True, check=True
    ).stdout
    latency = {p: re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M) for p in ("50", "99")}
    requests = re.search(r"(\d+) requests in", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = [int(value) for value in socket_errors.groups()] if socket_errors else [0, 0, 0, 0]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        **{f"p{p}_ms": round(float(m.group(1)) * SCALE_MS[m.group(2)], 3) if m else None for p, m in latency.items()},
        "requests": int(requests.group(1)) if requests else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(errors[:3]),
        "timeouts": errors[3],
    }


def failed(result: dict) -> bool:
    """A run with any error or timeout does not count as a working operating point."""
    return bool(result["non_2xx"] or result["socket_errors"] or result["timeouts"] or not result["requests"])


def median_of(runs: int, measure_once: Callable[[], dict]) -> dict:
    """The run with the median throughput (a shared machine is noisy), with every run's throughput beside it."""
    return median_result([measure_once() for _ in range(runs)])


def median_result(runs: list[dict]) -> dict:
    """Of wrk runs of one operating point, the one with the median throughput, every run's throughput beside it."""
    results = sorted(runs, key=lambda result: result["rps"])
    median = dict(results[len(results) // 2])
    median["runs_rps"] = [round(result["rps"], 1) for result in results]
    median["rps"] = round(median["rps"], 1)
    # errors in any run count: a point that fails one run out of three is not a working point
    for key in ("non_2xx", "socket_errors", "timeouts"):
        median[key] = sum(result[key] for result in results)
    return median


def warm_median(url: str, body: Path, seconds: int, connections: int) -> dict:
    """A 3 s warm-up, then the median of 3 wrk runs, with its failures summed as `errors`."""
    wrk(url, body, 3, connections)
    result = median_of(3, lambda: wrk(url, body, seconds, connections))
    result["errors"] = result["non_2xx"] + result["socket_errors"] + result["timeouts"]
    return result
