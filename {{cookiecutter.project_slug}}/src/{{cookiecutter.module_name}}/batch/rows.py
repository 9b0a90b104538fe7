"""Rows of a batch checked against the data contract column by column, with no Python loop per row.

The checks are those of the service's request model (types, nulls, ranges, allowed values, text
length), so a row the service would refuse is refused here too, with the reason, and never scored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Column
from ..serving.contract import INT64, MAX_TEXT, RECORD_COLUMNS


class BatchRefused(ValueError):
    """The batch as a whole cannot be scored (a column is missing)."""


def _numeric(column: Column, raw: pd.Series) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    text = raw.astype("string").str.strip() if not pd.api.types.is_numeric_dtype(raw) else None
    values = pd.to_numeric(raw if text is None else text.replace("", pd.NA), errors="coerce").astype("float64")
    if text is not None:  # pandas 2 parses text to within one ulp: read what it found numeric again, exactly
        parsed = values.notna()
        values[parsed] = text[parsed].astype("float64")
    given = raw.notna().to_numpy() if text is None else (text.notna() & (text != "")).to_numpy()
    number = values.to_numpy()
    low = column.min if column.min is not None else (INT64[0] if column.dtype == "int" else -np.inf)
    high = column.max if column.max is not None else (INT64[1] if column.dtype == "int" else np.inf)
    with np.errstate(invalid="ignore"):
        checks = [
            (given & np.isnan(number), "not a number"),
            (np.isinf(number), "not a finite number"),
            (number < low, f"below the minimum {column.min}"),
            (number > high, f"above the maximum {column.max}"),
        ]
        if column.dtype == "int":
            checks.append((np.isfinite(number) & (np.floor(number) != number), "not an integer"))
    return values, checks


def _text(column: Column, raw: pd.Series) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    values = raw.astype("string")
    given = values.notna().to_numpy()
    if column.allowed is not None:
        outside = given & ~values.isin(column.allowed).fillna(False).to_numpy()
        return values, [(outside, "not one of the allowed values")]
    length = values.str.len().fillna(0).to_numpy()
    return values, [(given & (length == 0), "empty"), (length > MAX_TEXT, f"longer than {MAX_TEXT} characters")]


def check_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The id and feature columns typed as the contract says, and per row why it cannot be scored (NA: it can)."""
    missing = [column.name for column in RECORD_COLUMNS if column.name not in frame.columns]
    if missing:
        raise BatchRefused(f"the batch has no column {', '.join(missing)} (the model input: see contract.yaml)")
    reasons = np.full(len(frame), None, dtype=object)
    typed = {}
    for column in RECORD_COLUMNS:
        raw = frame[column.name]
        values, checks = _numeric(column, raw) if column.numeric else _text(column, raw)
        if not column.nullable:
            checks.append((values.isna().to_numpy() & ~np.any([bad for bad, _ in checks], axis=0), "missing"))
        for bad, reason in checks:
            reasons = np.where(bad & (reasons == None), f"{column.name}: {reason}", reasons)  # noqa: E711
        typed[column.name] = values if column.numeric else values.astype(object).where(values.notna(), None)
    return pd.DataFrame(typed, index=frame.index), pd.Series(reasons, index=frame.index, dtype="string")
