"""Validate: Great Expectations suites derived from the data contract.

One suite per raw source and one for the model-input table. A failed expectation
fails the stage (non-zero exit) so nothing downstream runs; the report names the
table, the expectation, the column and a few offending values.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..schema import Column, Table

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


def build_suite(table: Table) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=f"{table.name}_contract")
    suite.add_expectation(
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=table.min_rows, max_value=table.max_rows)
    )
    for column in table.columns:
        for expectation in column_expectations(column):
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


def validate_frame(frame: pd.DataFrame, table: Table) -> TableResult:
    """Run the table's contract suite on a DataFrame."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas(table.name)
        .add_dataframe_asset(table.name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(build_suite(table))
    outcome = batch.validate(suite)
    missing = {name for name in table.names if name not in frame.columns}
    failures = [
        _failure(result)
        for result in outcome.results
        if not result.success
        # a missing column fails every expectation on it: report the cause once
        and (
            result.expectation_config.kwargs.get("column") not in missing
            or result.expectation_config.type == "expect_column_to_exist"
        )
    ]
    return TableResult(
        table=table.name, file=table.file, rows=len(frame), evaluated=len(outcome.results), failures=failures
    )


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
