"""Helpers shared by the benchmarks: bake a project and set it up as a user does, run commands and measure
them, and write each benchmark's results as data (benchmarks/results/<name>.json) with what produced them.

BENCH_QUICK=1 makes every benchmark take short measurements (fewer repeats, smaller sizes): enough
to prove a script works on a busy machine; its results say `"quick": true` and the docs say so.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1]
RESULTS = TEMPLATE / "benchmarks" / "results"
sys.path.insert(0, str(TEMPLATE / "tests"))
from helpers import new_project, user_env  # noqa: E402  (the tests' user environment and shared uv cache)

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
# the environment variables that change what a benchmark measures, recorded in its command
KNOBS = ("BENCH_QUICK", "BENCH_SECONDS", "SOAK_SECONDS", "SOAK_CONCURRENCY", "SOAK_SAMPLE_SECONDS")


def bake(output: Path, **answers: Any) -> Path:
    """Generate a project and give it its own .venv with its own `make setup`."""
    return new_project(output, **answers)


def trained_project(output: Path, module: str, *generate: str, **answers: Any) -> Path:
    """A generated project, set up, with the sample written (`generate` options) and its pipeline run."""
    project = bake(output, **answers)
    measure(["python", "-m", module, "generate", *generate], project)
    measure(["python", "-m", module, "pipeline"], project)
    return project


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


def package_versions(project: Path, *names: str) -> dict[str, str]:
    """Installed versions of these distributions in the project's own environment."""
    probe = "import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    out = subprocess.run(
        ["python", "-c", probe, *names],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _template_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=TEMPLATE, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD")
    return f"{commit}+changes" if git("status", "--porcelain", "--untracked-files=no") else commit


class Run:
    """One benchmark run: records the machine before it starts and writes the results with their provenance."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.load_before = [round(value, 2) for value in os.getloadavg()]

    def command(self) -> str:
        """The command line that reproduces this run, with the variables that shaped it."""
        variables = [f"{name}={value}" for name, value in sorted(os.environ.items()) if name in KNOBS]
        return " ".join([*variables, "python", f"benchmarks/{self.name}.py", *sys.argv[1:]])

    def write(
        self,
        results: dict[str, Any],
        settings: dict[str, Any],
        versions: dict[str, str] | None = None,
        quick: bool = QUICK,
    ) -> Path:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        report = {
            "benchmark": f"benchmarks/{self.name}.py",
            "command": self.command(),
            "quick": quick,
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_s": round(time.monotonic() - self.started),
            "machine": {
                "cores": os.cpu_count(),
                "memory_gib": round(memory, 1),
                "cpu": _cpu_model(),
                "system": platform.platform(),
                "load_average_before": self.load_before,
                "load_average_after": [round(value, 2) for value in os.getloadavg()],
            },
            "versions": {"template": _template_commit(), "python": platform.python_version(), **(versions or {})},
            "settings": settings,
            "results": results,
        }
        path = RESULTS / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        return path


def print_tables(name: str) -> None:
    """Print the docs' blocks rendered from this benchmark's results (what `make bench-docs` writes)."""
    sys.path.insert(0, str(TEMPLATE / "scripts"))
    import render_benchmarks

    for block in render_benchmarks.blocks_of(name):
        sources = render_benchmarks.BLOCKS[block][0]
        if not all((RESULTS / f"{source}.json").exists() for source in sources):
            continue  # a summary that also needs another benchmark's results, not run yet
        print(f"<!-- bench:{block} -->\n{render_benchmarks.render_block(block)}\n")
