"""Drift computation over a large prediction log, in a generated level-2 scikit-learn project.

- `python -m <module> drift` end to end (imports, windows, every test, HTML report) over a
  log of 1,000,000 primary predictions, the whole log as the current window;
- reading that log: Arrow through ADBC (what `drift` does) against pandas on sqlite3.

Run: python benchmarks/drift.py [rows, default 1000000; BENCH_QUICK=1: 200000].
Writes benchmarks/results/drift.json.
"""

from __future__ import annotations

import importlib
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import QUICK, Run, bake, measure, package_versions, print_tables

MODULE = "bench_drift"
REPEATS = 3


def write_log(project: Path, rows: int) -> Path:
    """A log shaped like the service's (its own row builder): features resampled from the training split."""
    tables = importlib.import_module(f"{MODULE}.prediction_log.tables")
    train = pd.read_parquet(project / "data/processed/train.parquet")
    sample = train.sample(rows, replace=True, random_state=0).reset_index(drop=True)
    records = sample.to_dict("records")
    probability = np.random.default_rng(0).random(rows)
    labels = (probability >= 0.5).astype(int).tolist()
    path = project / "reports/predictions.db"
    with sqlite3.connect(path) as db:
        for statement in tables.TABLES:
            db.execute(statement)
        for start in range(0, rows, 100):  # requests of 100 records
            block = slice(start, start + 100)
            db.executemany(
                tables.PREDICTION,
                tables.prediction_rows(
                    f"request-{start // 100}",
                    1.7e9 + start * 0.01,
                    records[block],
                    probability[block].tolist(),
                    labels[block],
                    [("1", "primary")] * len(records[block]),
                ),
            )
    return path


def read_times(path: Path) -> tuple[float, float]:
    windows = importlib.import_module(f"{MODULE}.monitoring.windows")
    schema = importlib.import_module(f"{MODULE}.schema")
    query = f"select probability, {', '.join(schema.FEATURES)} from predictions where role = 'primary'"
    arrow, plain = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        windows.logged_window(path, 0)
        arrow.append(time.perf_counter() - start)
        start = time.perf_counter()
        with sqlite3.connect(path) as db:
            pd.read_sql_query(query, db)
        plain.append(time.perf_counter() - start)
    return statistics.median(arrow), statistics.median(plain)


def main(rows: int) -> None:
    run = Run("drift")
    with tempfile.TemporaryDirectory() as folder:
        project = bake(Path(folder), maturity_level="2", model_framework="sklearn", project_name="bench drift")
        python = "python"  # the project's own, from its .venv
        measure([python, "-m", MODULE, "generate"], project)
        for stage in ("ingest", "featurize", "train", "evaluate"):
            measure([python, "-m", MODULE, stage], project)
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["monitoring"]["window_rows"] = 0  # the whole log is the current window
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        sys.path.insert(0, str(project / "src"))
        path = write_log(project, rows)
        runs = [measure([python, "-m", MODULE, "drift"], project) for _ in range(REPEATS)]
        arrow, plain = read_times(path)
        versions = package_versions(project, "adbc-driver-sqlite", "pyarrow", "pandas", "scipy")
    results = {
        "rows": rows,
        "repeats": REPEATS,
        "drift_s": round(statistics.median(run[0] for run in runs), 2),
        "runs_s": [round(run[0], 2) for run in runs],
        "peak_mib": round(max(run[1] for run in runs)),
        "read_adbc_s": round(arrow, 3),
        "read_pandas_s": round(plain, 3),
    }
    run.write(results, {"rows": rows, "repeats": REPEATS, "window_rows": 0}, versions)
    print_tables("drift")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000 if QUICK else 1_000_000)
