"""Pipeline time and peak memory of a generated level-2 scikit-learn project.

- the full pipeline (`dvc repro`) on the default sample, and a no-op `dvc repro`;
- every stage at 1x, 10x and 50x the default size (time and peak memory per stage);
- vectorised aggregation in `ingest` against a row-by-row Python loop on the same data.

Run: python benchmarks/pipeline.py [sizes, e.g. 1,10,50]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
from common import bake, measure

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


def main(sizes: list[float]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = bake(Path(folder), maturity_level="2", model_framework="sklearn", project_name="bench churn")
        python = "python"  # the project's own, from its .venv
        module = "bench_churn"

        generate_1x, _ = measure([python, "-m", module, "generate"], project)
        measure(
            [
                "dvc",
                "add",
                "--quiet",
                *(f"data/raw/{n}.csv" for n in ("customers", "transactions", "support_tickets", "labels")),
            ],
            project,
        )
        full, full_memory = measure(["dvc", "repro"], project)
        noop, _ = measure(["dvc", "repro"], project)
        vectorised, naive = aggregation_ratio(project)
        print("## Default sample (20,000 customers, ~265,000 transactions), level 2, scikit-learn\n")
        print("| what | seconds |")
        print("|---|---:|")
        print(f"| sample generation (`make data`) | {generate_1x:.1f} |")
        print(f"| full pipeline (`dvc repro`, 5 stages; peak {full_memory:.0f} MiB) | {full:.1f} |")
        print(f"| no-op `dvc repro` | {noop:.2f} |")
        print(f"\nAggregation of transactions per customer: groupby {vectorised * 1000:.0f} ms, "
              f"row-by-row loop {naive * 1000:.0f} ms ({naive / vectorised:.0f}x slower).\n")  # fmt: skip

        print("## Scaling (each stage as its own process)\n")
        print("| size | customers | transactions | " + " | ".join(STAGES) + " | total s | s per 1x | peak MiB |")
        print("|---" * (len(STAGES) + 6) + "|")
        base = None
        for size in sizes:
            measure([python, "-m", module, "generate", "--size", str(size)], project)
            rows = len(pd.read_csv(project / "data/raw/customers.csv", usecols=["customer_id"]))
            with open(project / "data/raw/transactions.csv", "rb") as handle:
                transactions = sum(1 for _ in handle) - 1
            timings, peak = [], 0.0
            for stage in STAGES:
                seconds, memory = measure([python, "-m", module, stage], project)
                timings.append(seconds)
                peak = max(peak, memory)
            total = sum(timings)
            base = base or total / size
            cells = " | ".join(f"{t:.1f}" for t in timings)
            print(
                f"| {size:g}x | {rows:,} | {transactions:,} | {cells} | {total:.1f} | {total / size:.1f} | {peak:.0f} |"
            )
        print(f"\n(s per 1x at the smallest size: {base:.1f}; linear growth keeps this column flat or falling)")


if __name__ == "__main__":
    arg = sys.argv[1] if len(sys.argv) > 1 else "1,10,50"
    main([float(size) for size in arg.split(",")])
