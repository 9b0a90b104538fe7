"""Feature construction: new columns built from the model-input table.

Each transformer takes and returns a DataFrame (vectorised column arithmetic, no
row loops) and learns nothing it should not: group means come from the training
split only, so the service applies exactly what training saw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

RATIOS: tuple[tuple[str, str, str], ...] = (
    ("spend_per_tenure_month", "txn_total", "tenure_months"),
    ("tickets_per_txn", "ticket_count", "txn_count"),
    ("recent_activity_share", "txn_count_90d", "txn_count"),
    ("fee_to_spend", "monthly_fee", "txn_mean"),
)
INTERACTIONS: tuple[tuple[str, str], ...] = (
    ("age", "tenure_months"),
    ("high_severity_tickets", "mean_resolution_hours"),
)


class RatioFeatures(TransformerMixin, BaseEstimator):
    """Add numerator / (denominator + 1): rates are comparable across customer sizes."""

    def __init__(self, ratios: Sequence[tuple[str, str, str]] = RATIOS) -> None:
        self.ratios = ratios

    def fit(self, X: pd.DataFrame, y: object = None) -> RatioFeatures:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        new = {name: X[num].astype(float) / (X[den].astype(float) + 1.0) for name, num, den in self.ratios}
        return X.assign(**new)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([*self.feature_names_in_, *(name for name, _, _ in self.ratios)], dtype=object)


class InteractionFeatures(TransformerMixin, BaseEstimator):
    """Add products of column pairs, named "a_x_b": effects that only show together."""

    def __init__(self, pairs: Sequence[tuple[str, str]] = INTERACTIONS) -> None:
        self.pairs = pairs

    def fit(self, X: pd.DataFrame, y: object = None) -> InteractionFeatures:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.assign(**{f"{a}_x_{b}": X[a].astype(float) * X[b].astype(float) for a, b in self.pairs})

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([*self.feature_names_in_, *(f"{a}_x_{b}" for a, b in self.pairs)], dtype=object)


class GroupDeviation(TransformerMixin, BaseEstimator):
    """Add value minus the mean of the customer's group, named "<col>_vs_<group>".

    Unknown groups at prediction time fall back to the overall training mean.
    """

    def __init__(self, group: str = "region", columns: Sequence[str] = ("txn_total",)) -> None:
        self.group = group
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: object = None) -> GroupDeviation:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        values = X[list(self.columns)].astype(float)
        means = values.groupby(X[self.group].astype(str)).mean()
        self.group_means_ = {column: means[column].to_dict() for column in self.columns}
        self.overall_means_ = values.mean().to_dict()
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        groups = X[self.group].astype(str)
        new = {
            f"{column}_vs_{self.group}": X[column].astype(float)
            - groups.map(self.group_means_[column]).astype(float).fillna(self.overall_means_[column])
            for column in self.columns
        }
        return X.assign(**new)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([*self.feature_names_in_, *(f"{c}_vs_{self.group}" for c in self.columns)], dtype=object)


def constructed_names(group: str, group_columns: Sequence[str]) -> list[str]:
    """Names of every column the construction step adds, in order."""
    return [
        *(name for name, _, _ in RATIOS),
        *(f"{a}_x_{b}" for a, b in INTERACTIONS),
        *(f"{column}_vs_{group}" for column in group_columns),
    ]
