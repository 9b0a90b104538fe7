"""Ingest of a one-table contract: files stacked, headers renamed, the target mapped to 0/1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from {{ cookiecutter.module_name }}.data.ingest import (
    build_model_input,
    ingest,
    positive_mask,
    read_source,
    read_sources,
)
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


def test_a_one_table_contract_is_written_a_chunk_at_a_time(raw_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "model_input.parquet"
    assert ingest(raw_dir, output, "2026-01-01", CONTRACT, chunk_rows=1) == 3
    assert pq.ParquetFile(output).num_row_groups == 3  # one per labelled row: no chunk waited for the others
    whole = build_model_input(read_sources(raw_dir, CONTRACT), "2026-01-01", CONTRACT)
    pd.testing.assert_frame_equal(pd.read_parquet(output), whole)


def test_numbers_keep_the_contract_type_whatever_a_chunk_holds(raw_dir: Path, tmp_path: Path) -> None:
    """A first chunk of whole numbers or of nulls does not fix a float column as int or null."""
    (raw_dir / "jan.csv").write_text("Visit Id,Plan,Spend,Bought?\n1,a,,yes\n2,b,2,no\n")
    output = tmp_path / "model_input.parquet"
    ingest(raw_dir, output, "2026-01-01", CONTRACT, chunk_rows=1)
    assert pd.read_parquet(output)["spend"].tolist()[1:] == [2.0, 2.0]


def test_chunks_that_disagree_on_a_type_are_written_whole_for_validation(raw_dir: Path, tmp_path: Path) -> None:
    (raw_dir / "jan.csv").write_text("Visit Id,Plan,Spend,Bought?\n1,a,1.5,yes\n2,b,lots,no\n")
    (raw_dir / "feb.csv").write_text("Visit Id,Plan,Spend,Bought?\n")
    output = tmp_path / "model_input.parquet"
    assert ingest(raw_dir, output, "2026-01-01", CONTRACT, chunk_rows=1) == 2
    assert pd.read_parquet(output)["spend"].tolist() == ["1.5", "lots"]  # as text, for validate to name


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
