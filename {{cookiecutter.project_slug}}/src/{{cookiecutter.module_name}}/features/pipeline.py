"""The feature pipeline: construction -> transformation -> selection, fitted as one object."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import RFE, SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..schema import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from .construct import GroupDeviation, InteractionFeatures, RatioFeatures, constructed_names


def build_transformer(log_columns: list[str], numeric_columns: list[str]) -> ColumnTransformer:
    """Log-then-scale skewed amounts, scale other numbers, one-hot encode categories."""
    scaled = [column for column in numeric_columns if column not in log_columns]
    return ColumnTransformer(
        [
            (
                "log",
                Pipeline(
                    [
                        ("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                        ("scale", StandardScaler()),
                    ]
                ),
                log_columns,
            ),
            ("scale", StandardScaler(), scaled),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL_FEATURES),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def build_selector(method: str, k: int, seed: int) -> Any:
    if method == "kbest":
        return SelectKBest(f_classif, k=k)
    if method == "rfe":
        return RFE(LogisticRegression(max_iter=1000, random_state=seed), n_features_to_select=k)
    raise ValueError(f"features.selection must be 'kbest' or 'rfe', not {method!r}")


def build_feature_pipeline(params: dict[str, Any]) -> Pipeline:
    """The unfitted pipeline described by params.yaml's `features` section."""
    features = params["features"]
    group, group_columns = features["group_column"], list(features["group_value_columns"])
    numeric = [*NUMERIC_FEATURES, *constructed_names(group, group_columns)]
    pipeline = Pipeline(
        [
            ("ratios", RatioFeatures()),
            ("interactions", InteractionFeatures()),
            ("group_deviation", GroupDeviation(group=group, columns=group_columns)),
            ("transform", build_transformer(list(features["log_columns"]), numeric)),
            ("select", build_selector(features["selection"], int(features["k"]), int(params["seed"]))),
        ]
    )
    return pipeline.set_output(transform="pandas")
