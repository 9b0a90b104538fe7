"""The windows that monitoring compares: the reference (the training data) and a current one.

The current window comes from the prediction log (what the service really saw) or from a
new raw batch (data that has not been served yet). Either is checked against the data
contract first: an empty or schema-breaking window is an error, never a drift verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .. import config
from ..prediction_log.readers import missing, newest_answers
from ..prediction_log.store import LogUnavailable
from ..schema import FEATURES, MODEL_INPUT
from ..stages import StageFailed

PREDICTION = "probability"  # the column of model scores, in the log and in every window


class WindowError(StageFailed):
    """A window that cannot be judged; the message says why."""


def check_window(frame: pd.DataFrame, source: str, min_rows: int) -> pd.DataFrame:
    """Refuse a window that is too small or breaks the contract's columns, types or categories."""
    missing = [name for name in FEATURES if name not in frame.columns]
    if missing:
        raise WindowError(f"{source}: missing column(s) {', '.join(missing)}")
    if len(frame) < min_rows:
        raise WindowError(f"{source}: {len(frame)} row(s), fewer than monitoring.min_rows={min_rows}")
    for column in MODEL_INPUT.by_role("feature"):
        values = frame[column.name]
        if values.isna().any() and not column.nullable:
            raise WindowError(f"{source}: column {column.name} has {int(values.isna().sum())} empty value(s)")
        if column.dtype == "category" and column.allowed is not None:
            unknown = {str(value) for value in values.dropna().unique()} - set(column.allowed)
            if unknown:
                raise WindowError(f"{source}: column {column.name} has values outside the contract: {sorted(unknown)}")
        elif not pd.api.types.is_numeric_dtype(values):
            raise WindowError(f"{source}: column {column.name} should be numeric, found {values.dtype}")
    return frame


def reference_window(rows: int, seed: int, train_file: Path = config.TRAIN_FILE) -> pd.DataFrame:
    """A seeded sample of the training split: the data the current model learned from."""
    train = pd.read_parquet(train_file, columns=FEATURES)
    return train.sample(min(rows, len(train)), random_state=seed).reset_index(drop=True) if rows else train


def read_log(read: Callable[[str | Path], pd.DataFrame], target: str | Path, hint: str) -> pd.DataFrame:
    """What `read` finds in the prediction log (a file or a database), or a WindowError saying why not."""
    if missing(target):
        raise WindowError(f"{target}: no prediction log; {hint}")
    try:
        return read(target)
    except LogUnavailable as error:
        raise WindowError(f"{error}; {hint}") from error


def logged_window(target: str | Path, rows: int) -> pd.DataFrame:
    """The newest `rows` predictions answered by the primary model (0 = all)."""
    return read_log(lambda log: newest_answers(log, rows), target, "serve some predictions or pass a raw batch")


def batch_window(raw_dir: Path, snapshot_date: str) -> pd.DataFrame:
    """A new raw batch (the files data/raw holds, by the same names), built exactly as `ingest` does."""
    from ..data.ingest import build_model_input, source_chunks

    if not raw_dir.is_dir():
        raise WindowError(f"{raw_dir}: not a folder of raw sources")
    try:
        return build_model_input(source_chunks(raw_dir), snapshot_date)
    except FileNotFoundError as missing:
        raise WindowError(f"{raw_dir}: missing raw source {Path(str(missing.filename)).name}") from missing
    except (KeyError, ValueError, TypeError) as broken:
        raise WindowError(f"{raw_dir}: the raw batch breaks the data contract: {broken}") from broken
