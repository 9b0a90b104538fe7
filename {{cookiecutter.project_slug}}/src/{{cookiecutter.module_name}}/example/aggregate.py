"""The example's aggregation: customers joined with their activity aggregates and labels.

contract.yaml names this module as `aggregate`, so `ingest` calls `build_model_input` to
turn the four raw sources into one row per customer.

An aggregation of your own has the same interface: `build_model_input(sources,
snapshot_date)` gets every source of contract.yaml by name as `Chunks` (iterate over one for
DataFrame chunks, or take it `whole()`) and returns one DataFrame of model-input columns, the
target as it is in the raw data (`ingest` maps it to 0/1 and orders the columns). Read the
tables with one row per entity whole and fold the per-event ones chunk by chunk (`fold`, means
as a sum and a count), so that memory grows with the entities, not with the events.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from ..data.chunks import Chunks, fold
from .generate import (  # the sample these sources come from
    ACTIVITY_WINDOW_DAYS,
    CUSTOMERS,
    LABELS,
    SUPPORT_TICKETS,
    TRANSACTIONS,
    DriftKnobs,
    generate,
    write_sources,
)

__all__ = ["DriftKnobs", "build_model_input", "generate", "write_sources"]

log = logging.getLogger(__name__)

RECENT_DAYS = 90
FILL_WITHOUT_ACTIVITY = {
    "txn_count": 0,
    "txn_total": 0.0,
    "txn_mean": 0.0,
    "txn_max": 0.0,
    "txn_count_90d": 0,
    "days_since_last_txn": ACTIVITY_WINDOW_DAYS,
    "ticket_count": 0,
    "high_severity_tickets": 0,
    "mean_resolution_hours": 0.0,
}
# how each partial aggregate of a chunk combines with the same customer's from other chunks
TRANSACTION_PARTS = {
    "txn_count": "sum",
    "txn_total": "sum",
    "amounts": "sum",
    "txn_max": "max",
    "last_txn": "max",
    "txn_count_90d": "sum",
}
TICKET_PARTS = {"ticket_count": "sum", "high_severity_tickets": "sum", "resolution_total": "sum", "resolved": "sum"}


def transaction_partials(chunk: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    """One chunk's per-customer counts, sums, maxima and recent count."""
    recent = chunk["timestamp"] >= snapshot - pd.Timedelta(days=RECENT_DAYS)
    return (
        chunk.assign(recent=recent)
        .groupby("customer_id")
        .agg(
            txn_count=("amount", "size"),
            txn_total=("amount", "sum"),
            amounts=("amount", "count"),
            txn_max=("amount", "max"),
            last_txn=("timestamp", "max"),
            txn_count_90d=("recent", "sum"),
        )
    )


def aggregate_transactions(transactions: Chunks, snapshot: pd.Timestamp) -> pd.DataFrame:
    """Per-customer totals, means, counts and recency of the transactions, folded chunk by chunk."""
    totals = fold((transaction_partials(chunk, snapshot) for chunk in transactions), TRANSACTION_PARTS)
    totals["txn_mean"] = totals["txn_total"] / totals.pop("amounts")
    totals["days_since_last_txn"] = (snapshot - totals.pop("last_txn")).dt.days.clip(0, ACTIVITY_WINDOW_DAYS)
    return totals


def ticket_partials(chunk: pd.DataFrame) -> pd.DataFrame:
    """One chunk's per-customer ticket counts and resolution hours (open tickets have none)."""
    return (
        chunk.assign(is_high=chunk["severity"].eq("high"))
        .groupby("customer_id")
        .agg(
            ticket_count=("ticket_id", "size"),
            high_severity_tickets=("is_high", "sum"),
            resolution_total=("resolution_hours", "sum"),
            resolved=("resolution_hours", "count"),
        )
    )


def aggregate_tickets(tickets: Chunks) -> pd.DataFrame:
    """Per-customer ticket counts, high-severity counts and mean resolution time, folded chunk by chunk."""
    totals = fold((ticket_partials(chunk) for chunk in tickets), TICKET_PARTS)
    totals["mean_resolution_hours"] = totals.pop("resolution_total") / totals.pop("resolved")
    return totals


def build_model_input(sources: Mapping[str, Chunks], snapshot_date: str) -> pd.DataFrame:
    """Join customers with their activity aggregates and labels (one row per customer)."""
    snapshot = pd.Timestamp(snapshot_date)
    table = sources[CUSTOMERS.name].whole()
    if "customer_id" not in table.columns:
        log.warning("customers has no customer_id column; passing it through unjoined")
        return table
    parts = {
        TRANSACTIONS.name: lambda chunks: aggregate_transactions(chunks, snapshot),
        SUPPORT_TICKETS.name: aggregate_tickets,
        LABELS.name: lambda chunks: chunks.whole().set_index("customer_id")[["churned"]],
    }
    for name, aggregate in parts.items():
        try:
            table = table.join(aggregate(sources[name]), on="customer_id")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            log.warning(
                "cannot aggregate %s (%s: %s); validate will report the cause", name, type(error).__name__, error
            )
    for column, value in FILL_WITHOUT_ACTIVITY.items():
        if column in table.columns:
            table[column] = table[column].fillna(value)
            if isinstance(value, int):
                table[column] = table[column].astype("int64")
    return table
