"""The data contract: the one definition of every column this project reads or serves.

Validation (Great Expectations suites), the prediction service's request model and
docs/data_schema.md are all derived from these tables, so a column changes in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DType = Literal["int", "float", "category", "datetime"]
Role = Literal["id", "key", "feature", "sensitive", "label", "attribute"]


@dataclass(frozen=True)
class Column:
    """One column: its type, the values it may take and what it is for."""

    name: str
    dtype: DType
    description: str
    role: Role = "attribute"
    nullable: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """A table of the contract: a raw source file or the model-input table."""

    name: str
    file: str
    description: str
    columns: tuple[Column, ...]
    min_rows: int = 1
    max_rows: int = 50_000_000

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def by_role(self, *roles: Role) -> list[Column]:
        return [column for column in self.columns if column.role in roles]


GENDERS = ("female", "male", "nonbinary")
REGIONS = ("north", "south", "east", "west")
PLANS = ("basic", "standard", "premium")
CATEGORIES = ("groceries", "electronics", "travel", "entertainment", "utilities")
SEVERITIES = ("low", "medium", "high")
ACTIVITY_WINDOW_DAYS = 365

CUSTOMERS = Table(
    name="customers",
    file="customers.csv",
    description="One row per customer, as exported from the CRM at the snapshot date.",
    columns=(
        Column("customer_id", "int", "CRM identifier", role="id", unique=True, min=1),
        Column("signup_date", "datetime", "Date the contract started"),
        Column("age", "int", "Age in years at the snapshot date", min=18, max=100),
        Column("gender", "category", "Self-declared gender; used only to measure fairness", allowed=GENDERS),
        Column("region", "category", "Sales region of the billing address", allowed=REGIONS),
        Column("plan", "category", "Subscription plan", allowed=PLANS),
        Column("tenure_months", "int", "Whole months since signup", min=0, max=600),
        Column("monthly_fee", "float", "Current monthly fee in EUR", min=0, max=1_000),
    ),
)

TRANSACTIONS = Table(
    name="transactions",
    file="transactions.csv",
    description="Card transactions of the last 365 days before the snapshot date.",
    columns=(
        Column("transaction_id", "int", "Payment-system identifier", role="id", unique=True, min=1),
        Column("customer_id", "int", "Customer who paid", role="key", min=1),
        Column("timestamp", "datetime", "Time of the payment"),
        Column("amount", "float", "Amount in EUR", min=0, max=50_000),
        Column("category", "category", "Merchant category", allowed=CATEGORIES),
    ),
    min_rows=0,
)

SUPPORT_TICKETS = Table(
    name="support_tickets",
    file="support_tickets.csv",
    description="Support tickets opened in the last 365 days before the snapshot date.",
    columns=(
        Column("ticket_id", "int", "Help-desk identifier", role="id", unique=True, min=1),
        Column("customer_id", "int", "Customer who opened the ticket", role="key", min=1),
        Column("created_at", "datetime", "Time the ticket was opened"),
        Column("severity", "category", "Severity assigned by the help desk", allowed=SEVERITIES),
        Column(
            "resolution_hours",
            "float",
            "Hours until resolved; empty while the ticket is open",
            nullable=True,
            min=0,
            max=24 * 365,
        ),
    ),
    min_rows=0,
)

LABELS = Table(
    name="labels",
    file="labels.csv",
    description="Churn outcome observed 90 days after the snapshot date (see docs/labeling.md).",
    columns=(
        Column("customer_id", "int", "CRM identifier", role="id", unique=True, min=1),
        Column("churned", "int", "1 if the customer cancelled within 90 days, else 0", role="label", min=0, max=1),
    ),
)

RAW_SOURCES = (CUSTOMERS, TRANSACTIONS, SUPPORT_TICKETS, LABELS)

MODEL_INPUT = Table(
    name="model_input",
    file="customers.parquet",
    description="One row per customer: profile, activity aggregates and the label (written by `ingest`).",
    columns=(
        Column(
            "customer_id",
            "int",
            "CRM identifier; routes canary traffic, never a feature",
            role="id",
            unique=True,
            min=1,
        ),
        Column("age", "int", "Age in years", role="feature", min=18, max=100),
        Column(
            "gender",
            "category",
            "Sensitive attribute for fairness metrics; never a feature",
            role="sensitive",
            allowed=GENDERS,
        ),
        Column("region", "category", "Sales region", role="feature", allowed=REGIONS),
        Column("plan", "category", "Subscription plan", role="feature", allowed=PLANS),
        Column("tenure_months", "int", "Whole months since signup", role="feature", min=0, max=600),
        Column("monthly_fee", "float", "Monthly fee in EUR", role="feature", min=0, max=1_000),
        Column("txn_count", "int", "Transactions in the activity window", role="feature", min=0, max=100_000),
        Column("txn_total", "float", "Sum of transaction amounts in EUR", role="feature", min=0, max=10_000_000),
        Column(
            "txn_mean",
            "float",
            "Mean transaction amount in EUR (0 without transactions)",
            role="feature",
            min=0,
            max=50_000,
        ),
        Column("txn_max", "float", "Largest transaction amount in EUR", role="feature", min=0, max=50_000),
        Column("txn_count_90d", "int", "Transactions in the last 90 days", role="feature", min=0, max=100_000),
        Column(
            "days_since_last_txn",
            "int",
            f"Days from the last transaction to the snapshot ({ACTIVITY_WINDOW_DAYS} without transactions)",
            role="feature",
            min=0,
            max=ACTIVITY_WINDOW_DAYS,
        ),
        Column("ticket_count", "int", "Support tickets in the activity window", role="feature", min=0, max=10_000),
        Column("high_severity_tickets", "int", "Tickets of severity 'high'", role="feature", min=0, max=10_000),
        Column(
            "mean_resolution_hours",
            "float",
            "Mean hours to resolve a ticket (0 without resolved tickets)",
            role="feature",
            min=0,
            max=24 * 365,
        ),
        Column("churned", "int", "Label: 1 if the customer churned", role="label", min=0, max=1),
    ),
    min_rows=100,
)

LABEL = MODEL_INPUT.by_role("label")[0].name
SENSITIVE = MODEL_INPUT.by_role("sensitive")[0].name
ID = MODEL_INPUT.by_role("id")[0].name
FEATURES = [column.name for column in MODEL_INPUT.by_role("feature")]
NUMERIC_FEATURES = [c.name for c in MODEL_INPUT.by_role("feature") if c.dtype in ("int", "float")]
CATEGORICAL_FEATURES = [c.name for c in MODEL_INPUT.by_role("feature") if c.dtype == "category"]
