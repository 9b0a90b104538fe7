"""The Great Expectations suites derived from the data contract.

The sample data satisfies the contract, and every value the contract refuses (drawn from
the contract itself, for any table) is caught with the expectation and the column named.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.synthetic import invalid_values
from {{ cookiecutter.module_name }}.data.validate import describe, validate_chunks, validate_frame
from {{ cookiecutter.module_name }}.schema import ID, MODEL_INPUT, RAW_SOURCES, Column, Table


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


EXPECTATION_FOR = {
    "null": "expect_column_values_to_not_be_null",
    "category": "expect_column_values_to_be_in_set",
    "type": "expect_column_values_to_be_in_type_list",
    "below the minimum": "expect_column_values_to_be_between",
    "above the maximum": "expect_column_values_to_be_between",
}
CASES = [
    (column, value, rule)
    for column in MODEL_INPUT.columns
    if column.role in ("id", "feature", "label")
    for value, rule in invalid_values(column)
]


def test_every_model_input_column_has_a_rule_to_break() -> None:
    broken = {column.name for column, _, _ in CASES}
    assert {column.name for column in MODEL_INPUT.by_role("feature", "label")} <= broken


@pytest.mark.parametrize("rule", sorted(EXPECTATION_FOR))
def test_each_value_the_contract_refuses_is_caught(model_input: pd.DataFrame, rule: str) -> None:
    """One frame per rule: every column that rule applies to is broken in a row of its own."""
    cases = [(column, value) for column, value, kind in CASES if kind == rule]
    if not cases:
        pytest.skip(f"no column of the data contract has a {rule!r} rule")
    broken = model_input.copy()
    for row, (column, value) in enumerate(cases):
        broken = _set(broken, column.name, slice(row, row), value)
    caught = {(failure["expectation"], failure["column"]) for failure in validate_frame(broken, MODEL_INPUT).failures}
    missed = [column.name for column, _ in cases if (EXPECTATION_FOR[rule], column.name) not in caught]
    assert not missed, f"{rule}: not caught in {missed}"


def test_a_missing_column_duplicated_ids_and_an_empty_table_are_caught(model_input: pd.DataFrame) -> None:
    feature = MODEL_INPUT.by_role("feature")[0].name
    missing = validate_frame(model_input.drop(columns=[feature]), MODEL_INPUT)
    assert [f["expectation"] for f in missing.failures if f["column"] == feature] == ["expect_column_to_exist"]
    empty = validate_frame(model_input.head(0), MODEL_INPUT)
    assert ("expect_table_row_count_to_be_between", None) in {(f["expectation"], f["column"]) for f in empty.failures}
    if ID is not None:
        duplicated = validate_frame(pd.concat([model_input, model_input.head(3)]), MODEL_INPUT)
        assert ("expect_column_values_to_be_unique", ID) in {
            (f["expectation"], f["column"]) for f in duplicated.failures
        }


def test_failure_names_a_few_offending_values(model_input: pd.DataFrame, feature: Callable[..., Column]) -> None:
    bounded = feature("int", bounded=True)
    value = int(bounded.max) + 5
    result = validate_frame(_set(model_input, bounded.name, slice(0, 2), value), MODEL_INPUT)
    failure = next(f for f in result.failures if f["expectation"] == "expect_column_values_to_be_between")
    assert failure["unexpected_count"] == 3
    assert failure["examples"] == [str(value)] * 3


def test_chunks_are_judged_as_one_table(model_input: pd.DataFrame, feature: Callable[..., Column]) -> None:
    """Counts add up across chunks, and a duplicate is caught when its two rows are in different chunks.

    Uniqueness is checked on splits of 50 values: the duplicates' hash puts them in the same one.
    """
    bounded = feature("int", bounded=True)
    table = _set(model_input, bounded.name, slice(0, 0), int(bounded.max) + 5)
    table = _set(table, bounded.name, slice(len(table) - 1, len(table) - 1), int(bounded.max) + 6)
    if ID is not None:
        table = pd.concat([table, table.head(1)], ignore_index=True)  # the first row again, in the last chunk
    chunks = [table.iloc[start : start + 100] for start in range(0, len(table), 100)]
    whole, chunked = validate_frame(table, MODEL_INPUT), validate_chunks(chunks, MODEL_INPUT, split_rows=50)
    assert chunked.rows == len(table)
    assert chunked.evaluated == whole.evaluated
    assert {(f["expectation"], f["column"], f["unexpected_count"]) for f in chunked.failures} == {
        (f["expectation"], f["column"], f["unexpected_count"]) for f in whole.failures
    }
    caught = {f["expectation"] for f in chunked.failures}
    assert "expect_column_values_to_be_between" in caught
    assert ("expect_column_values_to_be_unique" in caught) is (ID is not None)
    too_few = validate_chunks([model_input.head(2), model_input.iloc[2:4]], MODEL_INPUT)
    assert [f["observed"] for f in too_few.failures if f["column"] is None] == ["4"]
