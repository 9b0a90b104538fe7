"""The example's aggregation of its four raw sources into one row per customer, through `ingest`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.ingest import (
    build_model_input,
    ingest,
    read_sources,
    source_chunks,
)
from {{ cookiecutter.module_name }}.example.generate import ACTIVITY_WINDOW_DAYS
from {{ cookiecutter.module_name }}.schema import MODEL_INPUT

SNAPSHOT = "2026-01-01"


@pytest.fixture
def sources() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "signup_date": pd.to_datetime(["2024-01-01", "2025-06-01"]),
            "age": [30, 60],
            "gender": ["female", "male"],
            "region": ["north", "west"],
            "plan": ["basic", "premium"],
            "tenure_months": [24, 7],
            "monthly_fee": [19.0, 69.0],
        }
    )
    transactions = pd.DataFrame(
        {
            "transaction_id": [1, 2, 3],
            "customer_id": [1, 1, 1],
            "timestamp": pd.to_datetime(["2025-06-01", "2025-12-01", "2025-12-22"]),
            "amount": [10.0, 20.0, 60.0],
            "category": ["travel", "groceries", "utilities"],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": [1, 2, 3],
            "customer_id": [2, 2, 1],
            "created_at": pd.to_datetime(["2025-10-01", "2025-11-01", "2025-12-01"]),
            "severity": ["high", "low", "high"],
            "resolution_hours": [10.0, None, 4.0],
        }
    )
    labels = pd.DataFrame({"customer_id": [1, 2], "churned": [0, 1]})
    return {"customers": customers, "transactions": transactions, "support_tickets": tickets, "labels": labels}


def test_transaction_aggregates_match_a_hand_computed_case(sources: dict[str, pd.DataFrame]) -> None:
    row = build_model_input(sources, SNAPSHOT).set_index("customer_id").loc[1]
    assert row["txn_count"] == 3
    assert row["txn_total"] == pytest.approx(90.0)
    assert row["txn_mean"] == pytest.approx(30.0)
    assert row["txn_max"] == pytest.approx(60.0)
    assert row["txn_count_90d"] == 2  # 2025-12-01 and 2025-12-22 are within 90 days of the snapshot
    assert row["days_since_last_txn"] == 10


def test_ticket_aggregates_skip_open_tickets_in_the_mean(sources: dict[str, pd.DataFrame]) -> None:
    row = build_model_input(sources, SNAPSHOT).set_index("customer_id").loc[2]
    assert row["ticket_count"] == 2
    assert row["high_severity_tickets"] == 1
    assert row["mean_resolution_hours"] == pytest.approx(10.0)


def test_customer_without_activity_gets_neutral_values(sources: dict[str, pd.DataFrame]) -> None:
    row = build_model_input(sources, SNAPSHOT).set_index("customer_id").loc[2]
    assert row["txn_count"] == 0
    assert row["txn_total"] == 0.0
    assert row["days_since_last_txn"] == ACTIVITY_WINDOW_DAYS


def test_output_has_the_contract_columns_in_order(sources: dict[str, pd.DataFrame]) -> None:
    table = build_model_input(sources, SNAPSHOT)
    assert list(table.columns) == MODEL_INPUT.names
    assert len(table) == 2


def test_a_source_that_cannot_be_aggregated_is_left_for_validation(sources: dict[str, pd.DataFrame]) -> None:
    broken = {**sources, "transactions": sources["transactions"].drop(columns=["amount"])}
    table = build_model_input(broken, SNAPSHOT)
    assert "txn_total" not in table.columns
    assert "ticket_count" in table.columns


def test_many_small_chunks_give_the_whole_table_aggregates(
    raw_dir: Path, params: dict[str, Any], tmp_path: Path
) -> None:
    """A customer's transactions and tickets spread over many chunks fold into the same row.

    Counts, maxima and recency are equal exactly; sums and means add the same amounts in
    another grouping, so they may differ in the last bits of a float.
    """
    snapshot = params["data"]["snapshot_date"]
    whole = build_model_input(read_sources(raw_dir), snapshot)
    chunks = source_chunks(raw_dir, chunk_rows=97)
    assert sum(1 for _ in chunks["transactions"]) > 50
    chunked = build_model_input(chunks, snapshot)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=False, rtol=1e-12, atol=0)
    output = tmp_path / "model_input.parquet"
    assert ingest(raw_dir, output, snapshot, chunk_rows=97) == len(whole)
    pd.testing.assert_frame_equal(pd.read_parquet(output), whole, check_exact=False, rtol=1e-12, atol=0)
