"""Pipeline time and peak memory of a generated level-2 scikit-learn project.

- the full pipeline (`dvc repro`) on the default sample, and a no-op `dvc repro`;
- every stage at 1x, 10x and 50x the default size, each as its own process (time and peak memory per stage);
- vectorised aggregation in `ingest` against a row-by-row Python loop on the same data.

Run: python benchmarks/pipeline.py [sizes, default 1,10,50; BENCH_QUICK=1: 1,5].
Writes benchmarks/results/pipeline.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
from common import QUICK, Run, bake, measure, package_versions, print_tables

STAGES = ("ingest", "validate", "featurize", "train", "evaluate")


def row_by_row_totals(transactions: pd.DataFrame) -> dict[int, tuple[int, float]]:
    """The naive alternative to `groupby`: one Python iteration per transaction."""
    totals: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    for customer, amount in zip(transactions["customer_id"].tolist(), transactions["amount"].tolist(), strict=True):
        entry = totals[customer]
        entry[0] += 1
        entry[1] += amount
    return {customer: (int(count), total) for customer, (count, total) in totals.items()}


def aggregation_ratio(project: Path) -> tuple[float, float]:
    transactions = pd.read_csv(project / "data/raw/transactions.csv", usecols=["customer_id", "amount"])
    start = time.perf_counter()
    transactions.groupby("customer_id")["amount"].agg(["size", "sum"])
    vectorised = time.perf_counter() - start
    start = time.perf_counter()
    row_by_row_totals(transactions)
    return vectorised, time.perf_counter() - start


def count_rows(project: Path) -> tuple[int, int]:
    customers = len(pd.read_csv(project / "data/raw/customers.csv", usecols=["customer_id"]))
    with open(project / "data/raw/transactions.csv", "rb") as handle:
        return customers, sum(1 for _ in handle) - 1


def main(sizes: list[float]) -> None:
    run = Run("pipeline")
    with tempfile.TemporaryDirectory() as folder:
        project = bake(Path(folder), maturity_level="2", model_framework="sklearn", project_name="bench churn")
        python = "python"  # the project's own, from its .venv
        module = "bench_churn"

        generate_1x, _ = measure([python, "-m", module, "generate"], project)
        customers, transactions = count_rows(project)
        raw = [f"data/raw/{n}.csv" for n in ("customers", "transactions", "support_tickets", "labels")]
        measure(["dvc", "add", "--quiet", *raw], project)
        full, full_memory = measure(["dvc", "repro"], project)
        noop, _ = measure(["dvc", "repro"], project)
        vectorised, naive = aggregation_ratio(project)
        default = {
            "customers": customers,
            "transactions": transactions,
            "generate_s": round(generate_1x, 2),
            "repro_s": round(full, 2),
            "repro_peak_mib": round(full_memory),
            "noop_s": round(noop, 3),
            "groupby_ms": round(vectorised * 1000, 2),
            "loop_ms": round(naive * 1000, 1),
        }

        scaling = []
        for size in sizes:
            for path in raw:  # the sample is written only into an empty data/raw
                (project / path).unlink()
            measure([python, "-m", module, "generate", "--size", str(size)], project)
            customers, transactions = count_rows(project)
            stages, memory = {}, {}
            for stage in STAGES:
                seconds, mib = measure([python, "-m", module, stage], project)
                stages[stage], memory[stage] = round(seconds, 2), round(mib)
            total = sum(stages.values())
            scaling.append(
                {
                    "size": size,
                    "customers": customers,
                    "transactions": transactions,
                    "stages": stages,
                    "stages_mib": memory,
                    "total_s": round(total, 2),
                    "per_1x_s": round(total / size, 2),
                    "peak_mib": max(memory.values()),
                }
            )
        versions = package_versions(project, "dvc", "pandas", "scikit-learn", "great-expectations", "mlflow")
    run.write({"default": default, "scaling": scaling}, {"sizes": sizes}, versions)
    print_tables("pipeline")


if __name__ == "__main__":
    arg = sys.argv[1] if len(sys.argv) > 1 else "1,5" if QUICK else "1,10,50"
    main([float(size) for size in arg.split(",")])
