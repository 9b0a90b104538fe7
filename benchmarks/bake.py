"""How long generating the default project takes, against a plain copy of the same template.

Generation only (cookiecutter and its hooks): the project's `make setup` is measured by setup.py.
Run: python benchmarks/bake.py [repeats, default 20; BENCH_QUICK=1: 5]. Writes benchmarks/results/bake.json.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import QUICK, TEMPLATE, Run, print_tables
from cookiecutter.main import cookiecutter
from helpers import bake_project


def timed(action, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            action(Path(folder))
            samples.append(time.perf_counter() - start)
    return samples


def main(repeats: int) -> None:
    run = Run("bake")
    source = TEMPLATE / "{{cookiecutter.project_slug}}"
    measured = {
        "hooks": ("cookiecutter with hooks (validation, pruning, git init and first commit)", bake_project),
        "no_hooks": (
            "cookiecutter without hooks",
            lambda out: cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), accept_hooks=False),
        ),
        "copy": ("plain copy of the template folder", lambda out: shutil.copytree(source, out / "copy")),
    }
    rows = []
    for key, (what, action) in measured.items():
        samples = timed(action, repeats)
        rows.append(
            {
                "key": key,
                "what": what,
                "median_ms": round(statistics.median(samples) * 1000, 1),
                "runs_ms": [round(s * 1000, 1) for s in samples],
            }
        )
    versions = {"cookiecutter": importlib.metadata.version("cookiecutter")}
    run.write({"repeats": repeats, "rows": rows}, {"repeats": repeats, "answers": "defaults"}, versions)
    print_tables("bake")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5 if QUICK else 20)
