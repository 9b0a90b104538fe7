"""Batch scoring: rows per second and peak memory of `score` with pandas (chunks) and Spark (`local[2]`).

A generated level-3 scikit-learn project (its own `make setup` with the `spark` extra) trains its
model; its holdout is resampled into Parquet inputs of 1M and 10M rows (ten files each, so Spark
has tasks to share). Each engine scores each input with `python -m <module> score`, end to end
(start-up and writing included), from the project's own environment. Memory is the peak of the
summed resident memory of the command's whole process tree (Spark's JVM and Python workers included).

Run: python benchmarks/batch_scoring.py [sizes, default 1000000 10000000; BENCH_QUICK=1: 200000 1000000].
Writes benchmarks/results/batch_scoring.json.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from common import QUICK, Run, package_versions, print_tables, project_env, trained_project

MODULE = "bench_batch"
FILES = 10
REPEATS = 1 if QUICK else 2
ENGINES = {"pandas": [], "spark": ["--engine", "spark", "--master", "local[2]"]}


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        process = int(status.parent.name)
        children.setdefault(int(fields["PPid"]), []).append(process)
        rss[process] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [pid]
    while stack:
        process = stack.pop()
        total += rss.get(process, 0)
        stack.extend(children.get(process, []))
    return total / 1024


def timed(command: list[str], project: Path) -> tuple[float, float]:
    """Wall seconds and the peak memory of the command's process tree."""
    process = subprocess.Popen(
        command, cwd=project, env=project_env(project), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mib(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    start = time.perf_counter()
    sampler.start()
    _, errors = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{errors.decode()[-3000:]}")
    return elapsed, peak


def write_input(project: Path, rows: int) -> Path:
    """`rows` model-input rows resampled from the holdout, as FILES Parquet files, written a file at a time."""
    holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
    folder = project / f"data/external/batch-{rows}"
    folder.mkdir(parents=True)
    per_file = rows // FILES
    for index in range(FILES):
        part = holdout.sample(per_file, replace=True, random_state=index).reset_index(drop=True)
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"part-{index}.parquet")
    return folder


def main(sizes: list[int]) -> None:
    run = Run("batch_scoring")
    measured: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        project = trained_project(
            Path(folder),
            MODULE,
            extras=("spark",),
            maturity_level="3",
            model_framework="sklearn",
            project_name="bench batch",
        )
        for rows in sizes:
            source = write_input(project, rows)
            for engine, options in ENGINES.items():
                runs = []
                for attempt in range(REPEATS):
                    output = project / f"reports/scores-{engine}-{rows}-{attempt}"
                    command = [
                        "python",
                        "-m",
                        MODULE,
                        "score",
                        str(source),
                        str(output),
                        "--model-uri",
                        "models/model",
                        *options,
                    ]
                    runs.append(timed(command, project))
                    shutil.rmtree(output) if output.is_dir() else output.unlink()  # Spark writes a folder
                seconds = statistics.median(run_[0] for run_ in runs)
                measured.setdefault(str(rows), {})[engine] = {
                    "seconds": round(seconds, 1),
                    "rows_per_s": round(rows / seconds),
                    "peak_mib": round(max(run_[1] for run_ in runs)),
                }
                print(rows, engine, measured[str(rows)][engine], flush=True)
            shutil.rmtree(source)
        versions = package_versions(project, "pyspark", "pandas", "pyarrow", "scikit-learn")
    settings = {"sizes": sizes, "files": FILES, "repeats": REPEATS, "chunk_rows": 100_000, "spark_master": "local[2]"}
    run.write({"by_rows": measured}, settings, versions)
    print_tables("batch_scoring")


if __name__ == "__main__":
    default = [200_000, 1_000_000] if QUICK else [1_000_000, 10_000_000]
    main([int(size) for size in sys.argv[1:]] or default)
