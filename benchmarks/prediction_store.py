"""The prediction log's stores side by side: a SQLite file against a PostgreSQL server (Debian's,
with its default durability: every commit flushed to disk, as SQLite's is).

In a generated level-2 project, the service's own writer (`PredictionLog`) logs requests of 10
records as fast as they come, from one process and from two processes at once (two replicas
sharing the log); the figure is rows committed per second, from the first record to `close()`
returning with everything written. Then monitoring's read of the whole log (Arrow through ADBC).

Run: python benchmarks/prediction_store.py [rows per writer, default 200000; BENCH_QUICK=1: 20000].
Writes benchmarks/results/prediction_store.json.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import QUICK, Run, bake, measure, package_versions, print_tables, project_env
from postgres_server import PostgresServer

MODULE = "bench_store"
ROWS_PER_REQUEST = 10
REPEATS = 1 if QUICK else 3

# one writer process: the service's PredictionLog, fed as fast as it takes rows; prints its seconds
WRITER = f"""
import sys, time
import pandas as pd
from {MODULE} import config
from {MODULE}.prediction_log.tables import FEATURE_COLUMNS
from {MODULE}.prediction_log.writer import PredictionLog
from {MODULE}.schema import ID
from {MODULE}.serving.metrics import ServiceMetrics

target, name, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
frame = pd.read_parquet(config.MODEL_INPUT_FILE, columns=[*([ID] if ID else []), *FEATURE_COLUMNS]).astype(object)
records = frame.where(frame.notna(), None).to_dict("records")
log = PredictionLog(target, ServiceMetrics(), max_pending_rows=rows + 1)
models = [("1", "primary")] * {ROWS_PER_REQUEST}
start = time.perf_counter()
for i in range(rows // {ROWS_PER_REQUEST}):
    batch = [records[(i * {ROWS_PER_REQUEST} + j) % len(records)] for j in range({ROWS_PER_REQUEST})]
    log.record_predictions(f"{{name}}-{{i}}", batch, [0.5] * {ROWS_PER_REQUEST}, [0] * {ROWS_PER_REQUEST}, models)
assert log.close(timeout=600) == 0
print(time.perf_counter() - start)
"""
READER = f"""
import sys, time
from {MODULE}.prediction_log.readers import newest_answers
start = time.perf_counter()
rows = len(newest_answers(sys.argv[1], 0))
print(rows, time.perf_counter() - start)
"""


def python(project: Path, code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["python", "-c", code, *args], cwd=project, env=project_env(project), stdout=subprocess.PIPE, text=True
    )


def write(project: Path, target: str, writers: int, rows: int) -> float:
    """Rows per second committed by `writers` processes logging `rows` rows each into one empty log.

    Each writer times itself from its first record (interpreter start-up left out); the slowest
    one's time is the run's.
    """
    processes = [python(project, WRITER, target, f"w{i}", str(rows)) for i in range(writers)]
    seconds = []
    for process in processes:
        output, _ = process.communicate()
        assert process.returncode == 0, f"writer failed: {output}"
        seconds.append(float(output))
    return writers * rows / max(seconds)


def read(project: Path, target: str, expected: int) -> float:
    process = python(project, READER, target)
    output, _ = process.communicate()
    rows, seconds = output.split()
    assert int(rows) == expected, (rows, expected)
    return float(seconds)


def main(rows: int) -> None:
    run = Run("prediction_store")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder, PostgresServer(durable=True) as server:
        project = bake(Path(folder), maturity_level="2", model_framework="sklearn", project_name="bench store")
        measure(["python", "-m", MODULE, "generate"], project)
        measure(["python", "-m", MODULE, "ingest"], project)
        targets = {"sqlite": lambda i: str(Path(folder) / f"log-{i}.db"), "postgresql": server.url}
        for store in ("sqlite", "postgresql"):
            figures: dict[str, list[float]] = {"one_writer": [], "two_writers": [], "read_s": []}
            for repeat in range(REPEATS):
                for writers, key in ((1, "one_writer"), (2, "two_writers")):
                    if store == "sqlite":
                        target = targets["sqlite"](f"{repeat}-{writers}")
                    else:
                        server.query("drop table if exists predictions, feedback, schema_migrations")
                        target = server.url
                    figures[key].append(write(project, target, writers, rows))
                figures["read_s"].append(read(project, target, 2 * rows))
            results[store] = {key: round(statistics.median(values), 3) for key, values in figures.items()}
            print(store, results[store], flush=True)
        postgres = server.query("show server_version")[0][0]
        versions = {
            **package_versions(project, "psycopg", "adbc-driver-postgresql", "adbc-driver-sqlite"),
            "postgresql": postgres,
        }
    settings = {"rows_per_writer": rows, "rows_per_request": ROWS_PER_REQUEST, "repeats": REPEATS}
    run.write(results, settings, versions)
    print_tables("prediction_store")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000 if QUICK else 200_000)
