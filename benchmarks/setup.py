"""How long a generated project's environment takes: `make setup` (uv, from uv.lock) against pip.

A level-2 scikit-learn project, from a user's clean environment (nothing activated):

- `make setup` with an empty cache (resolves, writes uv.lock, downloads, installs);
- `make setup` with a warm cache and the lock (.venv deleted first: a new clone, a CI runner);
- `make setup` when nothing changed;
- plain `python -m venv` + `pip install -e ".[pipeline,dev]"` with an empty and a warm pip cache.

Cold runs use their own empty caches, so they download everything each time.
Run: python benchmarks/setup.py [repeats, default 3; BENCH_QUICK=1: 1]; writes benchmarks/results/setup.json.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import QUICK, TEMPLATE, Run, print_tables
from helpers import bake_project, interpreter, user_env

PYTHON = "3.11"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def pip_install(project: Path, env: dict[str, str]) -> float:
    """A fresh venv and `pip install -e .[pipeline,dev]`: what `make setup` did before uv."""
    shutil.rmtree(project / ".venv-pip", ignore_errors=True)
    start = time.perf_counter()
    timed([interpreter(PYTHON), "-m", "venv", ".venv-pip"], project, env)
    timed([".venv-pip/bin/pip", "install", "--quiet", "-e", ".[pipeline,dev]"], project, env)
    return time.perf_counter() - start


def main(repeats: int) -> None:
    bench = Run("setup")
    (TEMPLATE / "build").mkdir(exist_ok=True)
    # in build/: the same file system as the caches, so uv hard-links as it does for users
    with tempfile.TemporaryDirectory(dir=TEMPLATE / "build") as folder:
        root = Path(folder)
        project = bake_project(root, maturity_level="2", project_name="bench setup")

        def fresh_caches(name: str) -> dict[str, str]:
            return user_env(UV_CACHE_DIR=str(root / name / "uv"), PIP_CACHE_DIR=str(root / name / "pip"))

        cold = []
        for run in range(repeats):
            env = fresh_caches(f"cold-{run}")
            shutil.rmtree(project / ".venv", ignore_errors=True)
            (project / "uv.lock").unlink(missing_ok=True)
            cold.append(timed(["make", "setup"], project, env))
        warm_env = fresh_caches(f"cold-{repeats - 1}")
        warm = []
        for _ in range(repeats):
            shutil.rmtree(project / ".venv")
            warm.append(timed(["make", "setup"], project, warm_env))
        unchanged = [timed(["make", "setup"], project, warm_env) for _ in range(repeats)]
        packages = len(json.loads(subprocess.run(
            [".venv/bin/uv", "pip", "list", "--format", "json"], cwd=project, env=warm_env,
            capture_output=True, text=True, check=True,
        ).stdout))  # fmt: skip

        pip_cold = [pip_install(project, fresh_caches(f"pip-cold-{run}")) for run in range(repeats)]
        pip_warm_env = fresh_caches(f"pip-cold-{repeats - 1}")
        pip_warm = [pip_install(project, pip_warm_env) for _ in range(repeats)]

    def row(key: str, what: str, samples: list[float]) -> dict:
        return {
            "key": key,
            "what": what,
            "median_s": round(statistics.median(samples), 2),
            "runs_s": [round(s, 2) for s in samples],
        }

    rows = [
        row("uv_cold", "`make setup`, empty cache (resolve, write `uv.lock`, download, install)", cold),
        row("uv_warm", "`make setup`, warm cache, with `uv.lock`, no `.venv` (a new clone, a CI runner)", warm),
        row("uv_unchanged", "`make setup`, nothing changed", unchanged),
        row("pip_cold", '`python -m venv` + `pip install -e ".[pipeline,dev]"`, empty pip cache', pip_cold),
        row("pip_warm", '`python -m venv` + `pip install -e ".[pipeline,dev]"`, warm pip cache', pip_warm),
    ]
    version = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, text=True, check=False)
    results = {"project": "level 2, scikit-learn, Python 3.11", "packages": packages, "rows": rows}
    bench.write(results, {"repeats": repeats}, {"uv": version.stdout.strip()})
    print_tables("setup")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1 if QUICK else 3)
