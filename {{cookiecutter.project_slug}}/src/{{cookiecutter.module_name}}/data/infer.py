"""Infer a data contract from the user's table: types, nulls, ranges, categories and roles.

Pure: frames in, a `Contract` (and notes for the person to review) out. Everything that
makes a table unusable is refused here, before `adopt` writes a single file.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Column, Contract, Table

MAX_CATEGORIES = 50  # more distinct text values than this is free text (an attribute), not a category
RANGE_MARGIN = 0.1  # observed numeric ranges are widened by this share of their width on each side
DATETIME_SHARE = 0.95  # text columns whose values parse as dates at least this often are datetimes
POSITIVE_WORDS = ("1", "1.0", "true", "yes", "y", "t", "positive", "pos")
UNNAMED = re.compile(r"^(Unnamed: \d+|)$")


class InferenceRefused(ValueError):
    """The table cannot be adopted; the message says why in one line."""


@dataclass
class Inferred:
    contract: Contract
    notes: list[str] = field(default_factory=list)  # what the person should review


def read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InferenceRefused(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".tsv"):
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        else:
            raise InferenceRefused(f"{path}: not a CSV or Parquet file (use .csv, .tsv or .parquet)")
    except pd.errors.EmptyDataError as empty:
        raise InferenceRefused(f"{path}: the file is empty") from empty
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as broken:
        raise InferenceRefused(f"{path}: cannot be read as a table ({type(broken).__name__}: {broken})") from broken
    if frame.empty:
        raise InferenceRefused(f"{path}: the file has no data rows")
    return frame


def read_tables(paths: list[Path]) -> pd.DataFrame:
    """All files stacked; they must have the same columns."""
    frames = [read_table(path) for path in paths]
    first = list(frames[0].columns)
    for path, frame in zip(paths[1:], frames[1:], strict=True):
        if set(frame.columns) != set(first):
            extra = sorted(map(str, set(frame.columns) - set(first)))
            missing = sorted(map(str, set(first) - set(frame.columns)))
            raise InferenceRefused(
                f"{path}: its columns disagree with {paths[0]} (extra: {extra or 'none'}, missing: {missing or 'none'})"
            )
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def identifier(name: str, taken: set[str]) -> str:
    """A lower-case Python identifier for a raw header, unique among `taken`."""
    text = re.sub(r"\W+", "_", str(name).strip().lower(), flags=re.ASCII).strip("_") or "column"
    if text[0].isdigit():
        text = f"c_{text}"
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        text = f"{text}_"
    candidate, n = text, 2
    while candidate in taken:
        candidate, n = f"{text}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _widen(low: float, high: float, integer: bool) -> tuple[float, float]:
    margin = (high - low) * RANGE_MARGIN or max(abs(high) * RANGE_MARGIN, 1.0)
    new_low, new_high = low - margin, high + margin
    if low >= 0:
        new_low = max(new_low, 0.0)
    if integer:
        return float(np.floor(new_low)), float(np.ceil(new_high))
    return float(round(new_low, 6)), float(round(new_high, 6))


def _is_datetime(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(500)
    if sample.empty or sample.str.fullmatch(r"-?\d+(\.\d+)?").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="ISO8601")
    return parsed.notna().mean() >= DATETIME_SHARE


def infer_column(name: str, values: pd.Series) -> tuple[Column, str | None]:
    """A raw column's contract entry, and a note when it is not usable as a feature."""
    nullable = bool(values.isna().any())
    count = int(values.notna().sum())
    if pd.api.types.is_bool_dtype(values):
        return Column(name, "category", f"{count} values", nullable=nullable, allowed=("False", "True")), None
    if pd.api.types.is_numeric_dtype(values):
        integer = pd.api.types.is_integer_dtype(values)
        low, high = _widen(float(values.min()), float(values.max()), integer)
        observed = f"observed {values.min():g} .. {values.max():g}"
        return Column(name, "int" if integer else "float", observed, nullable=nullable, min=low, max=high), None
    if _is_datetime(values):
        return Column(name, "datetime", "dates", nullable=nullable), "a date: kept out of the features"
    distinct = sorted(values.dropna().astype(str).unique())
    if len(distinct) <= MAX_CATEGORIES:
        return Column(name, "category", f"{len(distinct)} categories", nullable=nullable, allowed=tuple(distinct)), None
    note = f"free text ({len(distinct)} distinct values): kept out of the features"
    return Column(name, "category", f"{len(distinct)} distinct values", nullable=nullable), note


def choose_positive(values: pd.Series, positive: str | None, target: str) -> Any:
    """The positive class: the one asked for, a yes-like value, else the rarer class."""
    classes = values.dropna().unique().tolist()
    as_text = {str(value).strip(): value for value in classes}
    if positive is not None:
        if positive.strip() not in as_text:
            raise InferenceRefused(
                f"--positive {positive!r} is not a value of {target!r} (its values: {sorted(as_text)})"
            )
        chosen = as_text[positive.strip()]
    else:
        yes_like = [value for text, value in as_text.items() if text.lower() in POSITIVE_WORDS]
        chosen = yes_like[0] if len(yes_like) == 1 else values.value_counts().idxmin()
    if isinstance(chosen, np.generic):
        chosen = chosen.item()
    if isinstance(chosen, float) and chosen.is_integer():
        chosen = int(chosen)
    return chosen


def infer_contract(
    frame: pd.DataFrame,
    files: list[str],
    target: str,
    positive: str | None = None,
    id_column: str | None = None,
    sensitive: list[str] | None = None,
    drop: list[str] | None = None,
) -> Inferred:
    """The contract of one table (possibly several files), with notes on what to review."""
    sensitive, drop, notes = list(sensitive or []), list(drop or []), []
    headers = [str(column) for column in frame.columns]
    frame = frame.set_axis(headers, axis=1)
    for name in [target, *([id_column] if id_column else []), *sensitive, *drop]:
        if name not in headers:
            raise InferenceRefused(f"no column {name!r} in {', '.join(files)} (columns: {', '.join(headers)})")
    if len({target, id_column, *sensitive} - {None}) < 1 + bool(id_column) + len(sensitive):
        raise InferenceRefused("--target, --id and --sensitive must name different columns")
    labels = frame[target]
    classes = labels.dropna().unique()
    if len(classes) != 2:
        shown = ", ".join(map(str, classes[:5])) + (", ..." if len(classes) > 5 else "")
        raise InferenceRefused(
            f"target {target!r} has {len(classes)} class(es) ({shown}): only two-class targets are supported"
        )
    chosen = choose_positive(labels, positive, target)
    if labels.isna().any():
        notes.append(f"{int(labels.isna().sum())} row(s) have no {target!r}: they are left out of training")
    if id_column:
        ids = frame[id_column]
        if ids.isna().any() or ids.duplicated().any():
            duplicates = ids[ids.duplicated()].astype(str).unique()[:3].tolist()
            raise InferenceRefused(
                f"id column {id_column!r} is not unique and complete "
                f"({int(ids.duplicated().sum())} duplicate(s), e.g. {duplicates}; {int(ids.isna().sum())} missing)"
            )
    for name in headers:
        if UNNAMED.match(name) and name not in (target, id_column) and name not in drop:
            drop.append(name)
            notes.append(f"column {name!r} has no header (an index written by pandas?): dropped")

    taken: set[str] = set()
    raw_columns, model_columns = [], []
    for name in headers:
        if name in drop:
            continue
        column, unusable = infer_column(name, frame[name])
        clean = identifier(name, taken)
        source = name if clean != name else None
        if name == target:
            text = column.dtype == "category"
            raw_columns.append(
                Column(
                    name,
                    column.dtype,
                    f"the target; {chosen!r} is the positive class",
                    role="label",
                    nullable=column.nullable,
                    allowed=tuple(sorted(map(str, classes))) if text else None,
                    min=None if text else float(min(classes)),
                    max=None if text else float(max(classes)),
                )
            )
            model_columns.append(
                Column(clean, "int", f"1 if {name} is {chosen!r}, else 0", role="label", min=0, max=1, source=source)
            )
            continue
        if name == id_column:
            kind: Any = "int" if column.dtype == "int" else "category"
            entry = Column(name, kind, "identifies a row", role="id", unique=True)
            raw_columns.append(entry)
            model_columns.append(
                Column(clean, kind, "identifies a row; never a feature", role="id", unique=True, source=source)
            )
            continue
        role: Any = "sensitive" if name in sensitive else "feature"
        if unusable and role == "feature":
            notes.append(f"column {name!r} is {unusable}")
            raw_columns.append(column)
            continue
        raw_columns.append(column)
        model = Column(
            clean,
            column.dtype,
            column.description,
            role=role,
            nullable=column.nullable,
            min=column.min,
            max=column.max,
            allowed=column.allowed,
            source=source,
        )
        if role == "sensitive" and model.dtype != "category":
            distinct = frame[name].dropna().unique()
            if len(distinct) > MAX_CATEGORIES:
                raise InferenceRefused(f"sensitive column {name!r} has {len(distinct)} values: fairness needs groups")
            model = Column(
                clean,
                "category",
                f"{len(distinct)} groups",
                role="sensitive",
                nullable=column.nullable,
                allowed=tuple(sorted(str(value) for value in distinct)),
                source=source,
            )
            raw_columns[-1] = Column(
                name, "category", model.description, nullable=column.nullable, allowed=model.allowed
            )
        model_columns.append(model)
        if source:
            notes.append(f"column {name!r} is called {clean!r} in the model input and the API")
    if not any(column.role == "feature" for column in model_columns):
        raise InferenceRefused("no usable feature column is left after the target, id, sensitive and dropped columns")
    stem = identifier(Path(files[0]).stem, set())
    source_table = Table(
        stem, f"The adopted table ({len(frame):,} rows when adopted).", tuple(raw_columns), files=tuple(files)
    )
    model_input = Table(
        "model_input",
        f"One row per {stem} row with a target: the features, the target as 0/1.",
        tuple(model_columns),
        min_rows=1,
    )
    label = next(column.name for column in model_columns if column.role == "label")
    return Inferred(Contract((source_table,), model_input, label, chosen, None), notes)
