"""The example's aggregation: customers joined with their activity aggregates and labels.

contract.yaml names this module as `aggregate`, so `ingest` calls `build_model_input` to
turn the four raw sources into one row per customer.
"""

from __future__ import annotations

import logging

import pandas as pd

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


def aggregate_transactions(transactions: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    """Per-customer totals, means, counts and recency of the transactions."""
    grouped = transactions.groupby("customer_id")
    recent = transactions["timestamp"] >= snapshot - pd.Timedelta(days=90)
    aggregates = grouped.agg(
        txn_count=("amount", "size"),
        txn_total=("amount", "sum"),
        txn_mean=("amount", "mean"),
        txn_max=("amount", "max"),
        last_txn=("timestamp", "max"),
    )
    aggregates["txn_count_90d"] = transactions.loc[recent].groupby("customer_id").size()
    aggregates["days_since_last_txn"] = (snapshot - aggregates.pop("last_txn")).dt.days.clip(0, ACTIVITY_WINDOW_DAYS)
    return aggregates


def aggregate_tickets(tickets: pd.DataFrame) -> pd.DataFrame:
    """Per-customer ticket counts, high-severity counts and mean resolution time."""
    return (
        tickets.assign(is_high=tickets["severity"].eq("high"))
        .groupby("customer_id")
        .agg(
            ticket_count=("ticket_id", "size"),
            high_severity_tickets=("is_high", "sum"),
            mean_resolution_hours=("resolution_hours", "mean"),
        )
    )


def build_model_input(sources: dict[str, pd.DataFrame], snapshot_date: str) -> pd.DataFrame:
    """Join customers with their activity aggregates and labels (one row per customer)."""
    snapshot = pd.Timestamp(snapshot_date)
    table = sources[CUSTOMERS.name]
    if "customer_id" not in table.columns:
        log.warning("customers has no customer_id column; passing it through unjoined")
        return table
    parts = {
        TRANSACTIONS.name: lambda frame: aggregate_transactions(frame, snapshot),
        SUPPORT_TICKETS.name: aggregate_tickets,
        LABELS.name: lambda frame: frame.set_index("customer_id")[["churned"]],
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
