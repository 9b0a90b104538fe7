"""Records drawn from the data contract alone: valid ones, and invalid ones with the reason.

Whatever table the contract describes, these give the service's self-check, the tests and
the fixtures data that satisfies (or breaks, on purpose) exactly the contract's rules.
`labelled_frame` plants a known signal in the target so that a model trained on it must
beat chance: tests that train can assert on quality without knowing a single column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..schema import CONTRACT, Column, Contract

SPAN = 1000.0  # width of the drawn range when a bound is missing (or the range is wider)
NULL_EVERY = 7  # nullable columns get a missing value in one row out of this many


def _numbers(column: Column, count: int, rng: np.random.Generator) -> list[Any]:
    low = column.min if column.min is not None else (column.max - SPAN if column.max is not None else 0.0)
    high = column.max if column.max is not None else low + SPAN
    high = min(high, low + SPAN) if column.max is None or column.min is None else high
    drawn = rng.uniform(low, high, count)
    if column.dtype == "int":
        return np.clip(np.round(drawn), np.ceil(low), np.floor(high)).astype(int).tolist()
    return drawn.tolist()


def column_values(column: Column, count: int, rng: np.random.Generator, nulls: bool = True) -> list[Any]:
    """`count` valid values of one column: every category, the numeric range, nulls where allowed."""
    if column.allowed is not None:
        values: list[Any] = [column.allowed[i % len(column.allowed)] for i in rng.permutation(count)]
    elif column.numeric:
        values = _numbers(column, count, rng)
    elif column.dtype == "datetime":
        days = rng.integers(0, 3650, count)
        values = (pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d").tolist()
    else:
        values = [f"value-{i}" for i in range(count)]
    if column.unique:
        values = list(range(1, count + 1)) if column.numeric else [f"id-{i}" for i in range(1, count + 1)]
        if column.numeric and column.min is not None:
            values = [int(column.min) + i for i in range(count)]
    if nulls and column.nullable:
        values = [None if i % NULL_EVERY == NULL_EVERY - 1 else value for i, value in enumerate(values)]
    return values


def records(columns: list[Column], count: int = 64, seed: int = 0, nulls: bool = True) -> list[dict[str, Any]]:
    """Contract-valid records over these columns, spread over every range and category."""
    rng = np.random.default_rng(seed)
    data = {column.name: column_values(column, count, rng, nulls) for column in columns}
    return [{name: data[name][i] for name in data} for i in range(count)]


def invalid_values(column: Column) -> list[tuple[Any, str]]:
    """Values the contract refuses for this column, each with the rule it breaks."""
    cases: list[tuple[Any, str]] = []
    if not column.nullable:
        cases.append((None, "null"))
    if column.allowed is not None:
        cases.append(("\u2603 not a category", "category"))
    if column.numeric:
        cases.append(("not a number", "type"))
        if column.min is not None:
            cases.append((column.min - 1, "below the minimum"))
        if column.max is not None:
            cases.append((column.max + 1, "above the maximum"))
    return cases


def labelled_frame(count: int, seed: int = 0, contract: Contract = CONTRACT) -> pd.DataFrame:
    """A model-input table whose 0/1 target follows a random logistic rule over the features."""
    rng = np.random.default_rng(seed)
    table = contract.model_input
    frame = pd.DataFrame(
        {column.name: column_values(column, count, rng) for column in table.columns if column.role != "label"}
    )
    score = np.zeros(count)
    for column in table.by_role("feature"):
        values = frame[column.name]
        if column.numeric:
            numbers = values.astype(float)
            spread = numbers.std() or 1.0
            score += rng.normal() * ((numbers - numbers.mean()) / spread).fillna(0.0).to_numpy()
        else:
            effects = {value: rng.normal() for value in values.dropna().unique()}
            score += values.map(effects).astype(float).fillna(0.0).to_numpy()
    score = 2.0 * (score - score.mean()) / (score.std() or 1.0)
    frame[contract.target] = (rng.random(count) < 1.0 / (1.0 + np.exp(-score))).astype(int)
    return frame[[name for name in table.names if name in frame.columns]]


def raw_frame(model_input: pd.DataFrame, contract: Contract = CONTRACT) -> pd.DataFrame:
    """A pass-through contract's one raw source holding these model-input rows (raw headers and target)."""
    source = contract.sources[0]
    target = source.column(next(c.source or c.name for c in contract.model_input.columns if c.name == contract.target))
    negative: Any = 0
    if target.allowed is not None:
        negative = next(value for value in target.allowed if value != str(contract.positive))
    raw = model_input.assign(
        **{contract.target: np.where(model_input[contract.target] == 1, contract.positive, negative)}
    )
    raw = raw.rename(columns={c.name: c.source for c in contract.model_input.columns if c.source})
    rng = np.random.default_rng(len(raw))
    for column in source.columns:
        if column.name not in raw.columns:
            raw[column.name] = column_values(column, len(raw), rng)
    return raw[source.names]


SAMPLE_ROWS = 20_000  # entities in a contract sample of size 1.0


def write_sample(folder: Path, rows: int, seed: int = 0) -> list[Path]:
    """Raw files as data/raw holds them: the contract's own sample when it has one, else synthetic rows."""
    from .sample import NoSample, sample_generator

    try:
        generate, write_sources, _ = sample_generator()
    except NoSample:
        raw = raw_frame(labelled_frame(rows, seed))
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / name for name in CONTRACT.sources[0].files]
        for path in paths:
            if path.suffix.lower() in (".parquet", ".pq"):
                raw.to_parquet(path, index=False)
            else:
                raw.to_csv(path, index=False)
        return paths
    return write_sources(generate(size=rows / SAMPLE_ROWS, seed=seed), folder)
