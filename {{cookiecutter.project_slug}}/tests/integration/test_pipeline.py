"""The whole pipeline, stage by stage through the CLI, on a small sample in a temporary folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.cli import main

from .conftest import update_params

pytestmark = pytest.mark.integration


def test_pipeline_produces_a_model_metrics_plots_and_a_validation_report(trained: Path) -> None:
    metrics = json.loads((trained / "reports/metrics.json").read_text())
    assert metrics["gate_passed"] is True
    assert metrics["roc_auc"] > 0.7
    assert {"accuracy", "f1", "roc_auc", "fairness"} <= metrics.keys()
    assert {"demographic_parity_difference", "equal_opportunity_difference"} <= metrics["fairness"].keys()
    assert (trained / "models/model/model.skops").is_file()
    assert (trained / "reports/plots/roc.csv").read_text().startswith("fpr,tpr")
    assert "passed" in (trained / "reports/validation.md").read_text()
    importance = json.loads((trained / "reports/feature_importance.json").read_text())
    assert importance[0]["importance"] >= importance[-1]["importance"]


def test_same_data_and_params_give_the_same_metrics(trained: Path) -> None:
    first = json.loads((trained / "reports/metrics.json").read_text())
    assert main(["train"]) == 0
    assert main(["evaluate"]) == 0
    assert json.loads((trained / "reports/metrics.json").read_text()) == first


def _with(column: str, value: object, rows: int = 3) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(table: pd.DataFrame) -> pd.DataFrame:
        table = table.astype({column: object})
        table.loc[: rows - 1, column] = value
        return table

    return corrupt


CORRUPTIONS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame] | None, str]] = {
    "missing column": (lambda t: t.drop(columns=["age"]), "expect_column_to_exist on column 'age'"),
    "nulls in a required column": (_with("region", None), "expect_column_values_to_not_be_null on column 'region'"),
    "values out of range": (_with("age", 250), "expect_column_values_to_be_between on column 'age'"),
    "wrong type": (_with("age", "forty"), "expect_column_values_to_be_in_type_list on column 'age'"),
    "duplicated ids": (
        lambda t: pd.concat([t, t.head(2)]),
        "expect_column_values_to_be_unique on column 'customer_id'",
    ),
    "empty file": (None, "expect_table_row_count_to_be_between on table"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupt_raw_data_stops_at_validation_and_keeps_the_last_good_model(
    trained: Path, capsys: pytest.CaptureFixture[str], corruption: str
) -> None:
    model_before = (trained / "models/model/model.skops").read_bytes()
    metrics_before = (trained / "reports/metrics.json").read_text()
    customers = trained / "data/raw/customers.csv"
    corrupt, expected = CORRUPTIONS[corruption]
    if corrupt is None:
        customers.write_bytes(b"")
    else:
        corrupt(pd.read_csv(customers)).to_csv(customers, index=False)

    assert main(["ingest"]) == 0  # ingest reads leniently so that validate can name the problem
    assert main(["validate"]) == 1
    message = capsys.readouterr().err
    assert f"customers.csv: {expected}" in message
    assert (trained / "models/model/model.skops").read_bytes() == model_before
    assert (trained / "reports/metrics.json").read_text() == metrics_before


def test_a_violation_names_a_few_offending_values(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    customers = trained / "data/raw/customers.csv"
    _with("age", 250)(pd.read_csv(customers)).to_csv(customers, index=False)
    assert main(["ingest"]) == 0
    assert main(["validate"]) == 1
    assert "3 unexpected value(s), e.g. ['250', '250', '250']" in capsys.readouterr().err


def test_missed_quality_gate_fails_the_evaluate_stage(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    update_params(trained, gate={"min_roc_auc": 0.999})
    assert main(["evaluate"]) == 1
    assert "roc_auc" in capsys.readouterr().err
    assert json.loads((trained / "reports/metrics.json").read_text())["gate_passed"] is False


def test_a_stage_without_its_inputs_says_what_is_missing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["featurize"]) == 1
    assert "missing input" in capsys.readouterr().err
