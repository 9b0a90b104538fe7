"""The example's seeded generator of the raw sample sources, with knobs for data and concept drift.

Churn is drawn from latent traits (engagement, dissatisfaction, plan, tenure) and the
observable activity is then drawn from the same traits, so aggregation and feature
construction recover real signal. Everything is vectorised: 50x the default size stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import RAW_SOURCES, Table

SOURCES: dict[str, Table] = {table.name: table for table in RAW_SOURCES}
CUSTOMERS, TRANSACTIONS = SOURCES["customers"], SOURCES["transactions"]
SUPPORT_TICKETS, LABELS = SOURCES["support_tickets"], SOURCES["labels"]
GENDERS = CUSTOMERS.column("gender").allowed or ()
REGIONS = CUSTOMERS.column("region").allowed or ()
PLANS = CUSTOMERS.column("plan").allowed or ()
CATEGORIES = TRANSACTIONS.column("category").allowed or ()
SEVERITIES = SUPPORT_TICKETS.column("severity").allowed or ()
ACTIVITY_WINDOW_DAYS = 365  # transactions and tickets of this many days before the snapshot

DEFAULT_CUSTOMERS = 20_000
SECONDS_PER_DAY = 86_400
PLAN_FEES = np.array([19.0, 39.0, 69.0])


@dataclass(frozen=True)
class DriftKnobs:
    """How far a generated batch departs from the reference population.

    age_shift: years added to every age (data drift: P(X) moves, P(y|X) does not).
    concept_drift: share of premium-plan customers whose churn outcome is flipped
    (concept drift: the same profile now has the opposite label).
    """

    age_shift: float = 0.0
    concept_drift: float = 0.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate(
    size: float = 1.0,
    seed: int = 42,
    snapshot_date: str = "2026-01-01",
    drift: DriftKnobs = DriftKnobs(),
) -> dict[str, pd.DataFrame]:
    """Return the four raw sources as DataFrames keyed by table name."""
    rng = np.random.default_rng(seed)
    n = max(int(DEFAULT_CUSTOMERS * size), 10)
    snapshot = pd.Timestamp(snapshot_date)

    gender = rng.choice(len(GENDERS), size=n, p=[0.48, 0.47, 0.05])
    plan_probs = np.where(gender[:, None] == 0, [0.45, 0.33, 0.22], [0.50, 0.31, 0.19])
    plan = (rng.random(n)[:, None] > plan_probs.cumsum(axis=1)).sum(axis=1)
    region = rng.integers(0, len(REGIONS), size=n)
    age = np.clip(rng.normal(42, 13, n) + drift.age_shift, 18, 100).round().astype(int)
    tenure = np.clip(rng.exponential(30, n), 0, 600).astype(int)
    fee = (PLAN_FEES[plan] * rng.uniform(0.9, 1.1, n)).round(2)
    engagement = rng.lognormal(0.0, 0.5, n) * (1 + 0.3 * (plan == 2))
    dissatisfaction = rng.normal(0.0, 1.0, n)

    risk = (
        -1.3
        + 0.9 * (plan == 0)
        - 0.6 * (plan == 2)
        - 0.025 * np.minimum(tenure, 120)
        + 0.9 * dissatisfaction
        - 0.8 * np.log(engagement)
        + 0.5 * (age < 25)
    )
    churned = (rng.random(n) < _sigmoid(risk)).astype(int)
    flip = (plan == 2) & (rng.random(n) < drift.concept_drift)
    churned = np.where(flip, 1 - churned, churned)

    ids = np.arange(1, n + 1)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": (snapshot - pd.to_timedelta(tenure * 30, unit="D")).strftime("%Y-%m-%d"),
            "age": age,
            "gender": np.asarray(GENDERS)[gender],
            "region": np.asarray(REGIONS)[region],
            "plan": np.asarray(PLANS)[plan],
            "tenure_months": tenure,
            "monthly_fee": fee,
        }
    )

    txn_per_customer = rng.poisson(11.0 * engagement)
    owner = np.repeat(np.arange(n), txn_per_customer)
    fades = rng.random(n) < 0.6
    days_ago = rng.uniform(0, ACTIVITY_WINDOW_DAYS, owner.size)
    # churners fade out: their activity concentrates in the older part of the window
    fading = (churned[owner] == 1) & fades[owner]
    days_ago[fading] = ACTIVITY_WINDOW_DAYS - (ACTIVITY_WINDOW_DAYS - days_ago[fading]) * 0.8
    transactions = pd.DataFrame(
        {
            "transaction_id": np.arange(1, owner.size + 1),
            "customer_id": ids[owner],
            "timestamp": (snapshot - pd.to_timedelta(days_ago * SECONDS_PER_DAY, unit="s")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "amount": np.minimum(rng.gamma(2.0, 18.0 * (1 + 0.5 * (plan[owner] == 2))), 50_000).round(2),
            "category": np.asarray(CATEGORIES)[rng.integers(0, len(CATEGORIES), owner.size)],
        }
    ).sort_values("timestamp", kind="stable")

    tickets_per_customer = rng.poisson(np.exp(-0.9 + 0.6 * dissatisfaction))
    opener = np.repeat(np.arange(n), tickets_per_customer)
    high = rng.random(opener.size) < _sigmoid(-1.5 + dissatisfaction[opener])
    severity = np.where(high, 2, rng.integers(0, 2, opener.size))
    resolution = rng.gamma(1.5, 12.0 * (1 + severity), opener.size).round(1)
    resolution[rng.random(opener.size) < 0.05] = np.nan
    support_tickets = pd.DataFrame(
        {
            "ticket_id": np.arange(1, opener.size + 1),
            "customer_id": ids[opener],
            "created_at": (
                snapshot
                - pd.to_timedelta(rng.uniform(0, ACTIVITY_WINDOW_DAYS, opener.size) * SECONDS_PER_DAY, unit="s")
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "severity": np.asarray(SEVERITIES)[severity],
            "resolution_hours": np.minimum(resolution, 24 * 365),
        }
    )

    labels = pd.DataFrame({"customer_id": ids, "churned": churned})
    return {
        CUSTOMERS.name: customers,
        TRANSACTIONS.name: transactions,
        SUPPORT_TICKETS.name: support_tickets,
        LABELS.name: labels,
    }


def write_sources(frames: dict[str, pd.DataFrame], raw_dir: Path) -> list[Path]:
    """Write each source as the CSV file the contract names; return the paths."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in (CUSTOMERS, TRANSACTIONS, SUPPORT_TICKETS, LABELS):
        path = raw_dir / table.files[0]
        frames[table.name].to_csv(path, index=False)
        paths.append(path)
    return paths
