"""Ingest of a one-table contract: files stacked, headers renamed, the target mapped to 0/1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.ingest import build_model_input, positive_mask, read_source
from {{ cookiecutter.module_name }}.schema import Column, Contract, Table

SOURCE = Table(
    "visits",
    "two monthly exports",
    (
        Column("Visit Id", "int", role="id", unique=True),
        Column("Plan", "category", allowed=("a", "b")),
        Column("Spend", "float", nullable=True),
        Column("Bought?", "category", role="label", nullable=True, allowed=("no", "yes")),
    ),
    files=("jan.csv", "feb.csv"),
)
CONTRACT = Contract(
    sources=(SOURCE,),
    model_input=Table(
        "model_input",
        "",
        (
            Column("visit_id", "int", role="id", unique=True, source="Visit Id"),
            Column("plan", "category", role="feature", allowed=("a", "b"), source="Plan"),
            Column("spend", "float", role="feature", nullable=True, source="Spend"),
            Column("bought", "int", role="label", min=0, max=1, source="Bought?"),
        ),
    ),
    target="bought",
    positive="yes",
)


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    pd.DataFrame({"Visit Id": [1, 2], "Plan": ["a", "b"], "Spend": [1.5, None], "Bought?": ["yes", "no"]}).to_csv(
        tmp_path / "jan.csv", index=False
    )
    pd.DataFrame({"Visit Id": [3, 4], "Plan": ["b", "a"], "Spend": [2.0, 3.0], "Bought?": ["no", None]}).to_csv(
        tmp_path / "feb.csv", index=False
    )
    return tmp_path


def test_every_file_of_a_source_is_read_and_stacked(raw_dir: Path) -> None:
    frame = read_source(SOURCE, raw_dir)
    assert frame["Visit Id"].tolist() == [1, 2, 3, 4]


def test_headers_are_renamed_and_the_target_becomes_zero_or_one(raw_dir: Path) -> None:
    table = build_model_input({"visits": read_source(SOURCE, raw_dir)}, "2026-01-01", CONTRACT)
    assert list(table.columns) == ["visit_id", "plan", "spend", "bought"]
    assert table["bought"].tolist() == [1, 0, 0]
    assert table["spend"].isna().sum() == 1  # nulls stay for the pipeline's imputer


def test_rows_without_a_target_are_left_out(raw_dir: Path) -> None:
    table = build_model_input({"visits": read_source(SOURCE, raw_dir)}, "2026-01-01", CONTRACT)
    assert 4 not in table["visit_id"].tolist()


@pytest.mark.parametrize(
    ("values", "positive", "expected"),
    [
        (pd.Series([0, 1, 1]), 1, [False, True, True]),
        (pd.Series([0.0, 1.0]), 1, [False, True]),
        (pd.Series(["No", "Yes "]), "Yes", [False, True]),
        (pd.Series(["1", "0"]), "1", [True, False]),
    ],
)
def test_the_positive_class_is_recognised_as_number_or_text(
    values: pd.Series, positive: object, expected: list
) -> None:
    assert positive_mask(values, positive).tolist() == expected
