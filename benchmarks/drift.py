"""Drift computation over a large prediction log, in a generated level-2 scikit-learn project.

- `python -m <module> drift` end to end (imports, windows, every test, HTML report) over a
  log of 1,000,000 primary predictions, the whole log as the current window;
- reading that log: Arrow through ADBC (what `drift` does) against pandas on sqlite3.

Run: python benchmarks/drift.py [rows, default 1000000]
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
from common import bake, measure

MODULE = "bench_drift"


def write_log(project: Path, rows: int) -> Path:
    """A log shaped like the service's: features resampled from the training split, fresh ids."""
    prediction_log = importlib.import_module(f"{MODULE}.serving.prediction_log")
    train = pd.read_parquet(project / "data/processed/train.parquet")
    sample = train.sample(rows, replace=True, random_state=0).reset_index(drop=True)
    rng = np.random.default_rng(0)
    probability = rng.random(rows)
    path = project / "reports/predictions.db"
    with sqlite3.connect(path) as db:
        db.executescript(prediction_log.SCHEMA)
        columns = [sample[name].tolist() for name in prediction_log.FEATURE_COLUMNS]
        db.executemany(
            prediction_log.PREDICTION,
            zip(
                (f"request-{i // 100}" for i in range(rows)),
                (i % 100 for i in range(rows)),
                (1.7e9 + i * 0.01 for i in range(rows)),
                ["1"] * rows,
                ["primary"] * rows,
                probability.tolist(),
                (probability >= 0.5).astype(int).tolist(),
                range(rows),
                *columns,
                strict=True,
            ),
        )
    return path


def read_times(path: Path) -> tuple[float, float]:
    windows = importlib.import_module(f"{MODULE}.monitoring.windows")
    schema = importlib.import_module(f"{MODULE}.schema")
    query = f"select probability, {', '.join(schema.FEATURES)} from predictions where role = 'primary'"
    arrow, plain = [], []
    for _ in range(3):
        start = time.perf_counter()
        windows.logged_window(path, 0)
        arrow.append(time.perf_counter() - start)
        start = time.perf_counter()
        with sqlite3.connect(path) as db:
            pd.read_sql_query(query, db)
        plain.append(time.perf_counter() - start)
    return statistics.median(arrow), statistics.median(plain)


def main(rows: int) -> None:
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
        runs = [measure([python, "-m", MODULE, "drift"], project) for _ in range(3)]
        seconds = statistics.median(run[0] for run in runs)
        memory = max(run[1] for run in runs)
        arrow, plain = read_times(path)
    print(f"## Drift over {rows:,} logged predictions x 15 features + the prediction (2 cores)\n")
    print("| what | seconds |")
    print("|---|---:|")
    print(f"| `python -m {MODULE} drift`, end to end (peak {memory:.0f} MiB; median of 3) | {seconds:.1f} |")
    print(f"| read the log: Arrow through ADBC | {arrow:.2f} |")
    print(f"| read the log: pandas on sqlite3 | {plain:.2f} |")
    print(f"\nReading through ADBC is {plain / arrow:.1f}x faster than pandas on sqlite3.")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
