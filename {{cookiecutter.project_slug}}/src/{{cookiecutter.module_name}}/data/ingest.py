"""Ingest: read the raw sources named by the contract and build the model-input table.

A contract with one source passes it through (renamed to model-input names, the target
mapped to 0/1); a contract that names an `aggregate` module hands the sources to it.
Reading is tolerant on purpose: a broken source must reach the validate stage, which
names the file, the expectation and the offending values, instead of crashing here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from ..config import replacing
from ..schema import CONTRACT, RAW_SOURCES, Contract, Table
from .sample import aggregate_module

log = logging.getLogger(__name__)

WHOLE = 1 << 62  # a chunk size no file reaches: the file in one piece


def _typed(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Dates parsed (unparseable ones as NaT, for validation to flag), categories as text."""
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        if column.dtype == "datetime":
            frame[column.name] = pd.to_datetime(frame[column.name], errors="coerce", format="ISO8601")
        elif column.dtype == "category" and not pd.api.types.is_string_dtype(frame[column.name]):
            values = frame[column.name]
            frame[column.name] = values.astype("str").where(values.notna())
    return frame


def read_chunks(path: Path, table: Table, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """One CSV or Parquet file, `chunk_rows` rows at a time, typed as `read_file` types it (one empty frame if empty)."""
    chunks: Iterable[pd.DataFrame]
    if path.suffix.lower() in (".parquet", ".pq"):
        whole = chunk_rows == WHOLE
        chunks = (
            [pd.read_parquet(path)] if whole else (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(chunk_rows))
        )
    else:
        categories = [column.name for column in table.columns if column.dtype == "category"]
        options = {"dtype": dict.fromkeys(categories, "str")}
        try:
            chunks = (
                [pd.read_csv(path, **options)]
                if chunk_rows == WHOLE
                else pd.read_csv(path, chunksize=chunk_rows, **options)
            )
        except pd.errors.EmptyDataError:
            log.warning("%s is empty", path)
            chunks = []
    empty = True
    for chunk in chunks:
        empty = False
        yield _typed(chunk, table)
    if empty:
        yield pd.DataFrame()


def read_file(path: Path, table: Table) -> pd.DataFrame:
    """One CSV or Parquet file, whole."""
    chunks = [chunk for chunk in read_chunks(path, table, WHOLE) if not chunk.empty]
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0] if chunks else pd.DataFrame()


def read_source_chunks(table: Table, raw_dir: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """All files of one source, a chunk at a time."""
    for name in table.files:
        yield from read_chunks(raw_dir / name, table, chunk_rows)


def read_source(table: Table, raw_dir: Path) -> pd.DataFrame:
    """All files of one source, stacked (e.g. monthly exports of the same table)."""
    frames = [read_file(raw_dir / name, table) for name in table.files]
    frames = [frame for frame in frames if not frame.empty] or frames[:1]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_sources(raw_dir: Path) -> dict[str, pd.DataFrame]:
    return {table.name: read_source(table, raw_dir) for table in RAW_SOURCES}


def positive_mask(values: pd.Series, positive: object) -> pd.Series:
    """Which raw target values are the positive class: numbers compare as numbers, text as text."""
    if pd.api.types.is_numeric_dtype(values) and not isinstance(positive, str | bool):
        return values.astype(float) == float(positive)  # type: ignore[arg-type]
    return values.astype("str").str.strip() == str(positive).strip()


def pass_through(sources: dict[str, pd.DataFrame], contract: Contract) -> pd.DataFrame:
    """The one source, with raw headers renamed to the contract's model-input names."""
    frame = sources[contract.sources[0].name]
    renames = {column.source: column.name for column in contract.model_input.columns if column.source}
    return frame.rename(columns=renames)


def build_model_input(
    sources: dict[str, pd.DataFrame], snapshot_date: str, contract: Contract = CONTRACT
) -> pd.DataFrame:
    """The model-input table: aggregated or passed through, target as 0/1, unlabelled rows dropped."""
    module = aggregate_module(contract)
    table = pass_through(sources, contract) if module is None else module.build_model_input(sources, snapshot_date)
    if contract.target in table.columns:
        target = table[contract.target]
        unlabelled = target.isna()
        if unlabelled.any():
            log.warning("%d row(s) without a value of %r are left out of training", unlabelled.sum(), contract.target)
            table = table.loc[~unlabelled]
        table = table.assign(**{contract.target: positive_mask(table[contract.target], contract.positive).astype(int)})
    ordered = [name for name in contract.model_input.names if name in table.columns]
    return table[ordered].reset_index(drop=True)


def ingest(raw_dir: Path, output: Path, snapshot_date: str) -> pd.DataFrame:
    """Build the model-input table from the raw sources and write it as parquet (atomically)."""
    table = build_model_input(read_sources(raw_dir), snapshot_date)
    with replacing(output) as temporary:
        table.to_parquet(temporary, index=False)
    log.info("wrote %s rows x %s columns to %s", len(table), table.shape[1], output)
    return table
