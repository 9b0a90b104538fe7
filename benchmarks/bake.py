"""How long generating the default project takes, against a plain copy of the same template.

Run: python benchmarks/bake.py [repeats]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import TEMPLATE, bake
from cookiecutter.main import cookiecutter


def timed(action, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            action(Path(folder))
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(repeats: int = 20) -> None:
    source = TEMPLATE / "{{cookiecutter.project_slug}}"
    full = timed(lambda out: bake(out), repeats)
    no_hooks = timed(
        lambda out: cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), accept_hooks=False), repeats
    )
    copy = timed(lambda out: shutil.copytree(source, out / "copy"), repeats)
    print(f"default project, median of {repeats}:")
    print("| what | ms | ratio to a plain copy |")
    print("|---|---:|---:|")
    for name, seconds in (("cookiecutter with hooks (validation, pruning, git init)", full),
                          ("cookiecutter without hooks", no_hooks),
                          ("plain copy of the template folder", copy)):  # fmt: skip
        print(f"| {name} | {seconds * 1000:.0f} | {seconds / copy:.1f}x |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
