"""Ingest: read the raw sources named by the contract and build the model-input table.

A contract with one source passes it through (renamed to model-input names, the target
mapped to 0/1), a chunk at a time straight into the parquet file; a contract that names an
`aggregate` module hands it every source as `Chunks`, so a module that folds its big tables
chunk by chunk keeps memory bounded whatever their size (the example does).
Reading is tolerant on purpose: a broken source must reach the validate stage, which
names the file, the expectation and the offending values, instead of crashing here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import replacing
from ..schema import CONTRACT, Contract, Table
from .chunks import Chunks, stack
from .sample import aggregate_module

log = logging.getLogger(__name__)

WHOLE = 1 << 62  # a chunk size no file reaches: the file in one piece
CHUNK_ROWS = 500_000  # rows read at once by ingest and validate: memory stays bounded whatever a table's size
ARROW_TYPES = {"int": pa.int64(), "float": pa.float64()}  # what every chunk's numbers are written as


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
    """One CSV or Parquet file, `chunk_rows` rows at a time, dates and categories typed (one empty frame if empty)."""
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


def read_source_chunks(table: Table, raw_dir: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """All files of one source, a chunk at a time."""
    for name in table.files:
        yield from read_chunks(raw_dir / name, table, chunk_rows)


def read_source(table: Table, raw_dir: Path) -> pd.DataFrame:
    """All files of one source, stacked (e.g. monthly exports of the same table)."""
    return stack(read_source_chunks(table, raw_dir, WHOLE))


def read_sources(raw_dir: Path, contract: Contract = CONTRACT) -> dict[str, pd.DataFrame]:
    """Every source of the contract, whole."""
    return {table.name: read_source(table, raw_dir) for table in contract.sources}


def source_chunks(raw_dir: Path, chunk_rows: int = CHUNK_ROWS, contract: Contract = CONTRACT) -> dict[str, Chunks]:
    """Every source of the contract, to be read `chunk_rows` rows at a time."""
    return {table.name: Chunks(partial(read_source_chunks, table, raw_dir, chunk_rows)) for table in contract.sources}


def positive_mask(values: pd.Series, positive: object) -> pd.Series:
    """Which raw target values are the positive class: numbers compare as numbers, text as text."""
    if pd.api.types.is_numeric_dtype(values) and not isinstance(positive, str | bool):
        return values.astype(float) == float(positive)  # type: ignore[arg-type]
    return values.astype("str").str.strip() == str(positive).strip()


def labelled(table: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, int]:
    """The contract's columns in order, target as 0/1, rows without a target left out (and how many)."""
    unlabelled = 0
    if contract.target in table.columns:
        missing = table[contract.target].isna()
        unlabelled = int(missing.sum())
        if unlabelled:
            table = table.loc[~missing]
        table = table.assign(**{contract.target: positive_mask(table[contract.target], contract.positive).astype(int)})
    ordered = [name for name in contract.model_input.names if name in table.columns]
    return table[ordered].reset_index(drop=True), unlabelled


def model_input_chunks(
    sources: Mapping[str, pd.DataFrame | Chunks], snapshot_date: str, contract: Contract = CONTRACT
) -> Iterator[pd.DataFrame]:
    """The model-input table in chunks: the one source's, renamed, or the aggregation's table as one chunk."""
    chunks = {name: source if isinstance(source, Chunks) else Chunks.of(source) for name, source in sources.items()}
    module = aggregate_module(contract)
    tables: Iterable[pd.DataFrame]
    if module is None:
        renames = {column.source: column.name for column in contract.model_input.columns if column.source}
        tables = (chunk.rename(columns=renames) for chunk in chunks[contract.sources[0].name])
    else:
        tables = [module.build_model_input(chunks, snapshot_date)]
    unlabelled = 0
    for table in tables:
        table, left_out = labelled(table, contract)
        unlabelled += left_out
        yield table
    if unlabelled:
        log.warning("%d row(s) without a value of %r are left out of training", unlabelled, contract.target)


def build_model_input(
    sources: Mapping[str, pd.DataFrame | Chunks], snapshot_date: str, contract: Contract = CONTRACT
) -> pd.DataFrame:
    """The model-input table in memory: aggregated or passed through, target as 0/1, unlabelled rows dropped."""
    return stack(model_input_chunks(sources, snapshot_date, contract)).reset_index(drop=True)


class MixedChunks(ValueError):
    """A chunk whose columns or types do not fit the ones the file was started with."""


def _arrow(chunk: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    if list(chunk.columns) != schema.names:
        raise MixedChunks(f"columns {list(chunk.columns)} after {schema.names}")
    try:
        return pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise MixedChunks(str(error)) from error


def _schema(chunk: pd.DataFrame, contract: Contract) -> pa.Schema:
    """The first chunk's types, numbers as the contract declares them (a later chunk may hold nulls or decimals)."""
    schema = pa.Schema.from_pandas(chunk, preserve_index=False)
    for column in contract.model_input.columns:
        if column.dtype in ARROW_TYPES and column.name in schema.names:
            index = schema.get_field_index(column.name)
            schema = schema.set(index, schema.field(index).with_type(ARROW_TYPES[column.dtype]))
    return schema


def write_chunks(chunks: Iterable[pd.DataFrame], path: Path, contract: Contract = CONTRACT) -> int:
    """Write the chunks into one parquet file as they come (the first, if all are empty); the rows written."""
    writer: pq.ParquetWriter | None = None
    first: pd.DataFrame | None = None
    rows = 0
    try:
        for chunk in chunks:
            first = chunk if first is None else first
            if chunk.empty:
                continue
            if writer is None:
                schema = _schema(chunk, contract)
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(_arrow(chunk, schema))
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        (pd.DataFrame() if first is None else first).to_parquet(path, index=False)
        rows = 0 if first is None else len(first)
    return rows


def ingest(
    raw_dir: Path, output: Path, snapshot_date: str, contract: Contract = CONTRACT, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Build the model-input table from the raw sources into parquet (atomically), a chunk at a time; the rows written.

    Chunks whose types disagree (numbers in one, text in another) are written as one table
    instead, read whole, as they would be typed together; validate then names the values.
    """
    try:
        with replacing(output) as temporary:
            chunks = model_input_chunks(source_chunks(raw_dir, chunk_rows, contract), snapshot_date, contract)
            rows = write_chunks(chunks, temporary, contract)
    except MixedChunks as mixed:
        log.warning("the model-input chunks disagree (%s): building it whole", mixed)
        table = build_model_input(read_sources(raw_dir, contract), snapshot_date, contract)
        with replacing(output) as temporary:
            table.to_parquet(temporary, index=False)
        rows = len(table)
    log.info("wrote %s rows to %s", rows, output)
    return rows
