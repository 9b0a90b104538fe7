"""The feature pipeline: construction -> transformation -> selection, fitted as one object.

Transformation works on any contract: numbers are imputed (median), optionally log-scaled,
then standardised; categories are imputed (most frequent) and one-hot encoded. Which
columns get constructed or logged comes from params.yaml, never from code.

The pipeline is fitted on at most `features.fit_rows` training rows (a stratified, seeded
sample): medians, means, categories and selection scores settle long before a million rows, and
fitting on a bounded sample keeps featurize's memory flat as the data grows, the way
HistGradientBoosting bins its input from 200,000 rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import RFE, SelectKBest, f_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..schema import CATEGORICAL_FEATURES, FEATURES, LABEL, NUMERIC_FEATURES
from .construct import constructed_names, construction_steps


def build_transformer(log_columns: list[str], numeric_columns: list[str], categorical_columns: list[str]) -> Any:
    """Impute, log-then-scale skewed amounts, scale other numbers, one-hot encode categories."""
    scaled = [column for column in numeric_columns if column not in log_columns]
    blocks = []
    if log_columns:
        log1p = FunctionTransformer(np.log1p, feature_names_out="one-to-one")
        blocks.append(
            (
                "log",
                Pipeline([("impute", SimpleImputer(strategy="median")), ("log1p", log1p), ("scale", StandardScaler())]),
                log_columns,
            )
        )
    if scaled:
        blocks.append(
            ("scale", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), scaled)
        )
    if categorical_columns:
        encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        blocks.append(
            (
                "onehot",
                Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", encode)]),
                categorical_columns,
            )
        )
    return ColumnTransformer(blocks, remainder="drop", verbose_feature_names_out=False)


def build_selector(method: str, k: int, seed: int) -> Any:
    if method == "kbest":
        return SelectKBest(f_classif, k=k)
    if method == "rfe":
        return RFE(LogisticRegression(max_iter=1000, random_state=seed), n_features_to_select=k)
    raise ValueError(f"features.selection must be 'kbest' or 'rfe', not {method!r}")


def build_feature_pipeline(params: dict[str, Any]) -> Pipeline:
    """The unfitted pipeline described by params.yaml's `features` section."""
    features = params["features"]
    construct = features.get("construct")
    numeric = [*NUMERIC_FEATURES, *constructed_names(construct)]
    log_columns = list(features.get("log_columns") or [])
    if unknown := [column for column in log_columns if column not in numeric]:
        raise ValueError(f"features.log_columns names {unknown}, which are not numeric features or constructed columns")
    pipeline = Pipeline(
        [
            *construction_steps(construct),
            ("transform", build_transformer(log_columns, numeric, CATEGORICAL_FEATURES)),
            ("select", build_selector(features["selection"], int(features["k"]), int(params["seed"]))),
        ]
    )
    return pipeline.set_output(transform="pandas")


def fitting_rows(train: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """All training rows, or a stratified sample of `limit` of them (0: no limit)."""
    if not limit or len(train) <= limit:
        return train
    sample, _ = train_test_split(train, train_size=limit, random_state=seed, stratify=train[LABEL])
    return sample


def fit_feature_pipeline(params: dict[str, Any], train: pd.DataFrame) -> Pipeline:
    """The pipeline of params.yaml fitted on the training rows (at most `features.fit_rows` of them)."""
    rows = fitting_rows(train, int(params["features"].get("fit_rows") or 0), int(params["seed"]))
    return build_feature_pipeline(params).fit(rows[FEATURES], rows[LABEL])
