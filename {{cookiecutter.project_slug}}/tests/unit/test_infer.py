"""Inferring a data contract from a table: types, ranges, roles, and the tables that are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.infer import (
    InferenceRefused,
    identifier,
    infer_contract,
    read_tables,
)
from {{ cookiecutter.module_name }}.schema import Contract, load_contract


def table(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "Account ID": [f"acc-{i:05d}" for i in range(rows)],
            "age": rng.integers(18, 90, rows),
            "Monthly Spend ($)": rng.gamma(2.0, 30.0, rows).round(2),
            "plan": rng.choice(["basic", "gold"], rows),
            "gender": rng.choice(["f", "m", "x"], rows),
            "signed_up": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "note": [f"free text {i}" for i in range(rows)],
            "Churn": rng.choice(["No", "Yes"], rows, p=[0.8, 0.2]),
        }
    )


def test_types_ranges_and_roles_are_inferred() -> None:
    inferred = infer_contract(table(), ["t.csv"], "Churn", id_column="Account ID", sensitive=["gender"])
    model = inferred.contract.model_input
    roles = {column.name: column.role for column in model.columns}
    assert roles == {
        "account_id": "id",
        "age": "feature",
        "monthly_spend": "feature",
        "plan": "feature",
        "gender": "sensitive",
        "churn": "label",
    }
    age = model.column("age")
    assert (age.dtype, age.min <= 18, age.max >= 89) == ("int", True, True)
    assert age.min >= 0  # a margin never crosses zero for non-negative data
    assert model.column("plan").allowed == ("basic", "gold")
    assert model.column("monthly_spend").source == "Monthly Spend ($)"
    assert model.column("account_id").dtype == "category"  # string ids
    assert inferred.contract.positive == "Yes"  # a yes-like value wins over the rarer class
    assert any("signed_up" in note and "date" in note for note in inferred.notes)
    assert any("note" in note and "free text" in note for note in inferred.notes)


def test_the_inferred_contract_round_trips_through_yaml(tmp_path: Path) -> None:
    from {{ cookiecutter.module_name }}.schema import dump_contract

    contract = infer_contract(table(), ["t.csv"], "Churn", sensitive=["gender"]).contract
    path = tmp_path / "contract.yaml"
    path.write_text(dump_contract(contract, "# header\n"))
    loaded = load_contract(path)
    assert isinstance(loaded, Contract)
    assert loaded == contract
    assert loaded.fingerprint() == contract.fingerprint()


def test_no_sensitive_column_or_several_are_accepted() -> None:
    none = infer_contract(table(), ["t.csv"], "Churn").contract
    assert none.model_input.by_role("sensitive") == []
    several = infer_contract(table(), ["t.csv"], "Churn", sensitive=["gender", "plan"]).contract
    assert [c.name for c in several.model_input.by_role("sensitive")] == ["plan", "gender"]


def test_a_numeric_sensitive_column_becomes_groups() -> None:
    frame = table().assign(race=lambda f: (f["age"] % 2).astype(int))
    sensitive = infer_contract(frame, ["t.csv"], "Churn", sensitive=["race"]).contract.model_input.column("race")
    assert (sensitive.dtype, sensitive.allowed) == ("category", ("0", "1"))


def test_the_rarer_class_is_positive_when_no_value_says_yes() -> None:
    frame = table().assign(Churn=lambda f: np.where(np.arange(len(f)) % 33 == 0, "lost", "kept"))  # 3 % positives
    assert infer_contract(frame, ["t.csv"], "Churn").contract.positive == "lost"
    assert infer_contract(frame, ["t.csv"], "Churn", positive="kept").contract.positive == "kept"


def test_a_wide_table_keeps_every_column() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(300, 85)), columns=[f"x{i}" for i in range(85)]).assign(
        y=rng.integers(0, 2, 300)
    )
    contract = infer_contract(frame, ["wide.parquet"], "y").contract
    assert len(contract.model_input.by_role("feature")) == 85
    assert contract.positive == 1


def test_nullable_columns_are_marked_nullable() -> None:
    frame = table().astype({"age": float})
    frame.loc[::10, "age"] = np.nan
    age = infer_contract(frame, ["t.csv"], "Churn").contract.model_input.column("age")
    assert (age.dtype, age.nullable) == ("float", True)


@pytest.mark.parametrize(
    ("change", "arguments", "message"),
    [
        (None, {"target": "missing"}, "no column 'missing'"),
        (lambda f: f.assign(Churn=np.arange(len(f)) % 3), {}, "has 3 class(es)"),
        (lambda f: f.assign(Churn="Yes"), {}, "has 1 class(es)"),
        (lambda f: f.assign(**{"Account ID": "same"}), {"id_column": "Account ID"}, "is not unique"),
        (None, {"positive": "Maybe"}, "--positive 'Maybe' is not a value"),
        (None, {"sensitive": ["Churn"]}, "must name different columns"),
        (lambda f: f[["Churn"]], {}, "no usable feature column"),
    ],
    ids=["missing-target", "three-classes", "one-class", "duplicate-ids", "unknown-positive", "overlap", "no-features"],
)
def test_unusable_tables_are_refused_in_one_line(change, arguments: dict, message: str) -> None:
    frame = table() if change is None else change(table())
    arguments = {"target": "Churn", **arguments}
    with pytest.raises(InferenceRefused, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        infer_contract(frame, ["t.csv"], **arguments)
    assert "\n" not in str(refused.value)


def test_empty_files_and_files_whose_columns_disagree_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InferenceRefused, match="empty"):
        read_tables([tmp_path / "empty.csv"])
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(InferenceRefused, match="no data rows"):
        read_tables([tmp_path / "header.csv"])
    table().to_csv(tmp_path / "one.csv", index=False)
    table().drop(columns=["note"]).to_parquet(tmp_path / "two.parquet")
    with pytest.raises(InferenceRefused, match=r"disagree .*missing: \['note'\]"):
        read_tables([tmp_path / "one.csv", tmp_path / "two.parquet"])


def test_csv_and_parquet_files_of_one_table_are_stacked(tmp_path: Path) -> None:
    table(100).to_csv(tmp_path / "one.csv", index=False)
    table(50, seed=1).to_parquet(tmp_path / "two.parquet")
    assert len(read_tables([tmp_path / "one.csv", tmp_path / "two.parquet"])) == 150


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Monthly Spend ($)", "monthly_spend"),
        ("2nd try", "c_2nd_try"),
        ("class", "class_"),
        ("", "column"),
        ("Ünïcode", "n_code"),
    ],
)
def test_headers_become_python_identifiers(header: str, expected: str) -> None:
    assert identifier(header, set()) == expected
