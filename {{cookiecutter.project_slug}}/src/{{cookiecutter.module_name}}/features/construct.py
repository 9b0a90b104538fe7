"""Feature construction: new columns built from the model-input table.

Which columns are combined is configuration (params.yaml `features.construct`), so the
same transformers serve any contract. Each transformer's arithmetic is written once, in
`compute`, on a dict of NumPy columns: `transform` applies it to a DataFrame for the
pipeline and the service's compiled path applies it to request columns, so the two
cannot disagree. Nothing is learned that should not be: group means come from the
training split only.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

Columns = Mapping[str, np.ndarray]


class Constructor(TransformerMixin, BaseEstimator):
    """Base: adds the columns `compute` returns, after the input columns."""

    def fit(self, X: pd.DataFrame, y: object = None) -> Constructor:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    @abstractmethod
    def compute(self, columns: Columns) -> dict[str, np.ndarray]:
        """The new columns, from NumPy input columns (the one place the arithmetic is written)."""

    @abstractmethod
    def new_names(self) -> list[str]:
        """Names of the added columns, in order."""

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        columns = {name: _array(X[name]) for name in self.inputs()}
        return X.assign(**self.compute(columns))

    @abstractmethod
    def inputs(self) -> list[str]:
        """The input columns `compute` reads."""

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([*self.feature_names_in_, *self.new_names()], dtype=object)


def _array(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return values.astype(object).to_numpy()


def _keys(values: np.ndarray) -> list[str | None]:
    """Group keys; a missing value (None or NaN, as either form holds it) belongs to no group."""
    return [None if value is None or value != value else str(value) for value in values.tolist()]


class RatioFeatures(Constructor):
    """Add numerator / (denominator + 1): rates are comparable across row sizes."""

    def __init__(self, ratios: Sequence[Sequence[str]] = ()) -> None:
        self.ratios = ratios

    def inputs(self) -> list[str]:
        return sorted({column for _, numerator, denominator in self.ratios for column in (numerator, denominator)})

    def compute(self, columns: Columns) -> dict[str, np.ndarray]:
        return {name: columns[num] / (columns[den] + 1.0) for name, num, den in self.ratios}

    def new_names(self) -> list[str]:
        return [name for name, _, _ in self.ratios]


class InteractionFeatures(Constructor):
    """Add products of column pairs, named "a_x_b": effects that only show together."""

    def __init__(self, pairs: Sequence[Sequence[str]] = ()) -> None:
        self.pairs = pairs

    def inputs(self) -> list[str]:
        return sorted({column for pair in self.pairs for column in pair})

    def compute(self, columns: Columns) -> dict[str, np.ndarray]:
        return {f"{a}_x_{b}": columns[a] * columns[b] for a, b in self.pairs}

    def new_names(self) -> list[str]:
        return [f"{a}_x_{b}" for a, b in self.pairs]


class GroupDeviation(Constructor):
    """Add value minus the training mean of its group, named "<col>_vs_<group>".

    Unknown groups at prediction time fall back to the overall training mean.
    """

    def __init__(self, group: str = "", columns: Sequence[str] = ()) -> None:
        self.group = group
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: object = None) -> GroupDeviation:
        super().fit(X, y)
        values = X[list(self.columns)].astype(float)
        means = values.groupby(pd.Series(_keys(_array(X[self.group])), index=X.index)).mean()
        self.group_means_ = {column: means[column].to_dict() for column in self.columns}
        self.overall_means_ = values.mean().to_dict()
        return self

    def inputs(self) -> list[str]:
        return [self.group, *self.columns]

    def compute(self, columns: Columns) -> dict[str, np.ndarray]:
        groups = _keys(columns[self.group])
        new = {}
        for column in self.columns:
            means, overall = self.group_means_[column], self.overall_means_[column]
            baseline = np.array([means.get(group, overall) for group in groups], dtype=float)
            new[f"{column}_vs_{self.group}"] = columns[column] - baseline
        return new

    def new_names(self) -> list[str]:
        return [f"{column}_vs_{self.group}" for column in self.columns]


def construction_steps(settings: Mapping[str, Any] | None) -> list[tuple[str, Constructor]]:
    """The configured construction steps, in order; an empty or absent section adds none."""
    settings = settings or {}
    steps: list[tuple[str, Constructor]] = []
    if settings.get("ratios"):
        steps.append(("ratios", RatioFeatures([tuple(ratio) for ratio in settings["ratios"]])))
    if settings.get("interactions"):
        steps.append(("interactions", InteractionFeatures([tuple(pair) for pair in settings["interactions"]])))
    group = settings.get("group_deviation") or {}
    if group.get("group") and group.get("columns"):
        steps.append(("group_deviation", GroupDeviation(group["group"], list(group["columns"]))))
    return steps


def constructed_names(settings: Mapping[str, Any] | None) -> list[str]:
    """Names of every column the construction steps add, in order."""
    return [name for _, step in construction_steps(settings) for name in step.new_names()]
