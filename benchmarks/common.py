"""Helpers shared by the benchmarks: bake a project and set it up as a user does, run commands and measure them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE / "tests"))
from helpers import new_project, user_env  # noqa: E402  (the tests' user environment and shared uv cache)


def bake(output: Path, **answers: str) -> Path:
    """Generate a project and give it its own .venv with its own `make setup`."""
    return new_project(output, **answers)


def project_env(project: Path, **extra: str) -> dict[str, str]:
    """A user's shell in the project with its environment activated (`source .venv/bin/activate`)."""
    return user_env(project, **extra)


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one command and its children, in cwd's activated environment."""
    env = project_env(cwd) if (cwd / ".venv").is_dir() else user_env()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{process.stderr.read()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024
