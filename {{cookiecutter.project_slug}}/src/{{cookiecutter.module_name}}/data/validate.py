"""Validate: Great Expectations suites derived from the data contract.

One suite per raw source and one for the model-input table. A failed expectation
fails the stage (non-zero exit) so nothing downstream runs; the report names the
table, the expectation, the column and a few offending values.

A table is read in chunks, so memory stays bounded whatever its size: the expectations on
single values run on each chunk, the row count on the count of every chunk's rows, and the
uniqueness of a column on its values gathered from every chunk, split by hash so that equal
values share a split and each split is no longer than a chunk. Great Expectations checks all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Column, Table
from .ingest import CHUNK_ROWS

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
import great_expectations as gx  # analytics must be off before import

log = logging.getLogger(__name__)
logging.getLogger("great_expectations").setLevel(logging.WARNING)

TYPE_LISTS = {
    "int": ["int8", "int16", "int32", "int64", "Int8", "Int16", "Int32", "Int64"],
    "float": ["float32", "float64", "Float32", "Float64", "int8", "int16", "int32", "int64", "Int64"],
    "datetime": ["datetime64", "datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"],
}
EXAMPLES = 5


def column_expectations(column: Column) -> list[Any]:
    """The expectations one contract column implies."""
    name = column.name
    expectations: list[Any] = [gx.expectations.ExpectColumnToExist(column=name)]
    if not column.nullable:
        expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=name))
    if column.dtype in TYPE_LISTS:
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeInTypeList(column=name, type_list=TYPE_LISTS[column.dtype])
        )
    if column.min is not None or column.max is not None:
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeBetween(column=name, min_value=column.min, max_value=column.max)
        )
    if column.allowed is not None:
        expectations.append(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.allowed)))
    if column.unique:
        expectations.append(gx.expectations.ExpectColumnValuesToBeUnique(column=name))
    return expectations


def table_expectations(table: Table) -> list[Any]:
    """Every expectation the contract implies for the table: its row count, then each column's."""
    return [
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=table.min_rows, max_value=table.max_rows),
        *(expectation for column in table.columns for expectation in column_expectations(column)),
    ]


def part_of(expectation: Any) -> str:
    """What an expectation judges: single values, the row count or one column's uniqueness (`unique <column>`)."""
    if expectation.expectation_type == "expect_table_row_count_to_be_between":
        return "rows"
    if expectation.expectation_type == "expect_column_values_to_be_unique":
        return f"unique {expectation.column}"
    return "values"


def build_suite(table: Table, part: str | None = None) -> gx.ExpectationSuite:
    """The table's suite; with `part` (see `part_of`), only the expectations on that part."""
    suite = gx.ExpectationSuite(name=f"{table.name}_contract" + ("" if part is None else f"_{part.replace(' ', '_')}"))
    for expectation in table_expectations(table):
        if part is None or part_of(expectation) == part:
            suite.add_expectation(expectation)
    return suite


@dataclass
class TableResult:
    """Outcome of one table's suite, in a form a person and a program can read."""

    table: str
    file: str
    rows: int
    evaluated: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures


def _failure(result: Any) -> dict[str, Any]:
    config = result.expectation_config
    details = result.result or {}
    exception = (result.exception_info or {}).get("exception_message")
    kwargs = {k: v for k, v in config.kwargs.items() if k not in {"column", "batch_id"} and v is not None}
    return {
        "expectation": config.type,
        "column": config.kwargs.get("column"),
        "expected": kwargs,
        "unexpected_count": details.get("unexpected_count"),
        "examples": [str(value) for value in (details.get("partial_unexpected_list") or [])[:EXAMPLES]],
        "observed": None if details.get("observed_value") is None else str(details.get("observed_value")),
        "error": exception,
    }


class _Suites:
    """One context for a table: a suite for each part of its expectations, run on any DataFrame."""

    def __init__(self, table: Table) -> None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False}
        self.batches = (
            context.data_sources.add_pandas(table.name)
            .add_dataframe_asset(table.name)
            .add_batch_definition_whole_dataframe("all")
        )
        parts = dict.fromkeys(part_of(expectation) for expectation in table_expectations(table))
        self.suites = {part: context.suites.add(build_suite(table, part)) for part in parts}

    def run(self, frame: pd.DataFrame, part: str) -> list[Any]:
        """The results of one part of the table's expectations on `frame` (none if the table has no such part)."""
        if part not in self.suites:
            return []
        batch = self.batches.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(self.suites[part]).results


def _merge(failures: dict[tuple[str, Any], dict[str, Any]], failure: dict[str, Any]) -> None:
    """Add one chunk's failure of an expectation to the same expectation's failures of earlier chunks."""
    key = (failure["expectation"], failure["column"])
    if key not in failures:
        failures[key] = failure
        return
    known = failures[key]
    if failure["unexpected_count"]:
        known["unexpected_count"] = (known["unexpected_count"] or 0) + failure["unexpected_count"]
    known["examples"] = (known["examples"] + failure["examples"])[:EXAMPLES]
    known["observed"] = known["observed"] or failure["observed"]
    known["error"] = known["error"] or failure["error"]


def splits(pieces: list[pd.Series], rows: int) -> Iterator[pd.DataFrame]:
    """One column's values from every chunk, in splits of about `rows`; equal values share a split (by hash)."""
    dtype = pd.concat([piece.head(0) for piece in pieces]).dtype  # as the pieces would be stacked
    pieces = [piece.astype(dtype) for piece in pieces]
    count = max(1, -(-sum(len(piece) for piece in pieces) // rows))
    if count == 1:
        yield pd.concat(pieces, ignore_index=True).to_frame()
        return
    kind = np.min_scalar_type(count - 1)
    codes = [(pd.util.hash_pandas_object(piece, index=False).to_numpy() % count).astype(kind) for piece in pieces]
    for number in range(count):
        chosen = [piece[code == number] for piece, code in zip(pieces, codes, strict=True)]
        yield pd.concat(chosen, ignore_index=True).to_frame()


def validate_chunks(chunks: Iterable[pd.DataFrame], table: Table, split_rows: int = CHUNK_ROWS) -> TableResult:
    """Run the table's contract suite over its rows, read a chunk at a time."""
    suites = _Suites(table)
    failures: dict[tuple[str, Any], dict[str, Any]] = {}

    def judge(frame: pd.DataFrame, part: str) -> int:
        results = suites.run(frame, part)
        for result in results:
            if not result.success:
                _merge(failures, _failure(result))
        return len(results)

    kept: dict[str, list[pd.Series]] = {column.name: [] for column in table.columns if column.unique}
    missing: set[str] = set()
    rows = evaluated = 0
    for chunk in chunks:
        rows += len(chunk)
        missing |= {name for name in table.names if name not in chunk.columns}
        evaluated = judge(chunk, "values")
        for name, values in kept.items():
            if name in chunk.columns:
                values.append(chunk[name].reset_index(drop=True).copy())  # not a view holding the chunk
    evaluated += judge(pd.DataFrame(index=pd.RangeIndex(rows)), "rows")
    for name, pieces in kept.items():
        # a missing column fails its uniqueness, and is reported as missing once
        frames = splits(pieces, split_rows) if pieces else [pd.DataFrame(index=pd.RangeIndex(rows))]
        evaluated += max(judge(frame, f"unique {name}") for frame in frames)
    reported = [
        failure
        for failure in failures.values()
        # a missing column fails every expectation on it: report the cause once
        if failure["column"] not in missing or failure["expectation"] == "expect_column_to_exist"
    ]
    return TableResult(table=table.name, file=table.file, rows=rows, evaluated=evaluated, failures=reported)


def validate_frame(frame: pd.DataFrame, table: Table) -> TableResult:
    """Run the table's contract suite on a DataFrame."""
    return validate_chunks([frame], table)


def describe(failure: dict[str, Any]) -> str:
    """One line a person can act on."""
    where = f"column {failure['column']!r}" if failure["column"] else "table"
    parts = [f"{failure['expectation']} on {where}"]
    if failure["expected"]:
        parts.append("expected " + ", ".join(f"{k}={v}" for k, v in failure["expected"].items()))
    if failure["unexpected_count"]:
        parts.append(f"{failure['unexpected_count']} unexpected value(s), e.g. {failure['examples']}")
    if failure["observed"] is not None:
        parts.append(f"observed {failure['observed']}")
    if failure["error"]:
        parts.append(f"error: {failure['error']}")
    return "; ".join(parts)


def render_report(results: list[TableResult]) -> str:
    lines = ["# Data validation report", ""]
    lines.append("| table | file | rows | expectations | result |")
    lines.append("|---|---|---:|---:|---|")
    for result in results:
        verdict = "passed" if result.success else f"**failed ({len(result.failures)})**"
        lines.append(f"| {result.table} | {result.file} | {result.rows} | {result.evaluated} | {verdict} |")
    for result in results:
        if result.failures:
            lines += ["", f"## {result.table} ({result.file})", ""]
            lines += [f"- {describe(failure)}" for failure in result.failures]
    return "\n".join(lines) + "\n"


def summary(results: list[TableResult]) -> dict[str, Any]:
    return {
        "success": all(result.success for result in results),
        "tables": {
            result.table: {
                "file": result.file,
                "rows": result.rows,
                "expectations": result.evaluated,
                "success": result.success,
                "failures": result.failures,
            }
            for result in results
        },
    }


def failure_lines(results: list[TableResult]) -> list[str]:
    return [f"{result.file}: {describe(failure)}" for result in results for failure in result.failures]
