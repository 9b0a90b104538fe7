"""The Great Expectations suites derived from the data contract.

The sample data satisfies the contract, and each kind of violation is caught with a
message naming the expectation and the column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.validate import describe, validate_frame
from {{ cookiecutter.module_name }}.schema import CUSTOMERS, MODEL_INPUT, RAW_SOURCES, Table


@pytest.mark.parametrize("table", RAW_SOURCES, ids=lambda table: table.name)
def test_sample_raw_sources_satisfy_the_contract(sources: dict[str, pd.DataFrame], table: Table) -> None:
    result = validate_frame(sources[table.name], table)
    assert result.success, [describe(failure) for failure in result.failures]


def test_sample_model_input_satisfies_the_contract(model_input: pd.DataFrame) -> None:
    result = validate_frame(model_input, MODEL_INPUT)
    assert result.success, [describe(failure) for failure in result.failures]


def _set(frame: pd.DataFrame, column: str, rows: slice, value: object) -> pd.DataFrame:
    broken = frame.copy()
    broken[column] = broken[column].astype(object)
    broken.loc[rows, column] = value
    return broken.infer_objects()


VIOLATIONS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str, str | None]] = {
    "missing column": (lambda f: f.drop(columns=["age"]), "expect_column_to_exist", "age"),
    "nulls in a required column": (
        lambda f: _set(f, "region", slice(0, 4), np.nan),
        "expect_column_values_to_not_be_null",
        "region",
    ),
    "value out of range": (lambda f: _set(f, "age", slice(0, 2), 250), "expect_column_values_to_be_between", "age"),
    "wrong type": (lambda f: _set(f, "age", slice(0, 0), "forty"), "expect_column_values_to_be_in_type_list", "age"),
    "value outside the allowed set": (
        lambda f: _set(f, "plan", slice(0, 0), "platinum"),
        "expect_column_values_to_be_in_set",
        "plan",
    ),
    "duplicated ids": (lambda f: pd.concat([f, f.head(3)]), "expect_column_values_to_be_unique", "customer_id"),
    "empty table": (lambda f: f.head(0), "expect_table_row_count_to_be_between", None),
}


@pytest.mark.parametrize("violation", VIOLATIONS)
def test_each_kind_of_violation_is_caught(sources: dict[str, pd.DataFrame], violation: str) -> None:
    corrupt, expectation, column = VIOLATIONS[violation]
    result = validate_frame(corrupt(sources[CUSTOMERS.name]), CUSTOMERS)
    assert not result.success
    caught = {(failure["expectation"], failure["column"]) for failure in result.failures}
    assert (expectation, column) in caught
    assert all(describe(failure) for failure in result.failures)


def test_failure_names_a_few_offending_values(sources: dict[str, pd.DataFrame]) -> None:
    result = validate_frame(_set(sources[CUSTOMERS.name], "age", slice(0, 2), 250), CUSTOMERS)
    failure = next(f for f in result.failures if f["expectation"] == "expect_column_values_to_be_between")
    assert failure["unexpected_count"] == 3
    assert failure["examples"] == ["250", "250", "250"]


def test_a_missing_column_is_reported_once(sources: dict[str, pd.DataFrame]) -> None:
    result = validate_frame(sources[CUSTOMERS.name].drop(columns=["age"]), CUSTOMERS)
    assert [f["expectation"] for f in result.failures if f["column"] == "age"] == ["expect_column_to_exist"]
