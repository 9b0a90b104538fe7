"""Holdout split: stratified by the label and seeded, so every run sees the same holdout."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from ..schema import LABEL


def split_holdout(table: pd.DataFrame, holdout_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, holdout = train_test_split(table, test_size=holdout_fraction, random_state=seed, stratify=table[LABEL])
    return train.reset_index(drop=True), holdout.reset_index(drop=True)
