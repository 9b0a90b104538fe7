"""`adopt` in a copy of this project: what it writes, what it removes, and that a refusal changes nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.module_name }} import config
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.schema import load_contract

PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files adopt reads and writes, copied into a folder that is the working directory."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("params.yaml", "docs", "tests/example", str(config.SOURCE_DIR)):
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy(source, folder / name)
    (folder / "data/raw").mkdir(parents=True)
    monkeypatch.chdir(folder)
    return folder


def user_table(path: Path, rows: int = 400) -> Path:
    rng = np.random.default_rng(3)
    pd.DataFrame(
        {
            "Patient ID": np.arange(1, rows + 1),
            "Age (years)": rng.integers(20, 80, rows),
            "dose": rng.gamma(1.5, 10.0, rows).round(1),
            "site": rng.choice(["a", "b", "c"], rows),
            "sex": rng.choice(["f", "m"], rows),
            "outcome": rng.choice(["healed", "relapsed"], rows, p=[0.7, 0.3]),
        }
    ).to_csv(path, index=False)
    return path


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_adopt_writes_the_contract_raw_data_params_and_docs_and_removes_the_example(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = user_table(tmp_path / "My Patients.csv")
    args = ["adopt", str(data), "--target", "outcome", "--positive", "relapsed", "--id", "Patient ID"]
    assert main([*args, "--sensitive", "sex"]) == 0
    contract = load_contract(config.CONTRACT_FILE)
    assert contract.sources[0].files == ("my_patients.csv",)
    assert (copy / "data/raw/my_patients.csv").read_bytes() == data.read_bytes()
    assert (contract.target, contract.positive, contract.aggregate) == ("outcome", "relapsed", None)
    assert [c.name for c in contract.model_input.by_role("feature")] == ["age_years", "dose", "site"]
    assert not (copy / config.SOURCE_DIR / "example").exists()
    assert not (copy / "tests/example").exists()
    params = yaml.safe_load((copy / "params.yaml").read_text())
    construct = params["features"]["construct"]
    assert (construct["ratios"], construct["interactions"], construct["group_deviation"]) == ([], [], {})
    assert params["features"]["k"] <= 1 + 1 + 3  # two numbers and three sites after encoding
    assert params["evaluate"]["min_group_size"] <= 80 * 0.5
    assert set(params["gate"]) == {"min_roc_auc_over_baseline", "min_average_precision_over_baseline"}
    assert "# right-skewed" in (copy / "params.yaml").read_text()  # comments survive
    assert "**To write:**" in (copy / "docs/labeling.md").read_text()
    assert "<!-- metrics:start -->" in (copy / "docs/model_card.md").read_text()
    assert "`age_years`" in (copy / "docs/data_schema.md").read_text()
    printed = capsys.readouterr().out
    assert "Target: outcome (positive class: 'relapsed')" in printed
    assert "'Age (years)' is called 'age_years'" in printed


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--target", "nope"], "no column 'nope'"),
        (["--target", "site"], "has 3 class(es)"),
        (["--target", "outcome", "--id", "sex"], "is not unique"),
    ],
)
def test_a_refusal_changes_nothing(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    data = user_table(tmp_path / "patients.csv")
    before = snapshot(copy)
    assert main(["adopt", str(data), *arguments]) == 1
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1
    assert snapshot(copy) == before


def test_an_empty_file_is_refused(copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.csv").write_text("")
    assert main(["adopt", str(tmp_path / "empty.csv"), "--target", "y"]) == 1
    assert "the file is empty" in capsys.readouterr().err


def test_the_sample_is_never_written_over_other_files(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = copy / "data/raw/mine.csv"
    mine.write_text("a,b\n1,2\n")
    assert main(["generate"]) == 1
    assert "already holds mine.csv" in capsys.readouterr().err
    assert mine.read_text() == "a,b\n1,2\n"


def test_remove_example_refuses_while_the_contract_uses_it(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not (copy / config.SOURCE_DIR / "example").exists():
        pytest.skip("this project no longer has the example")
    assert main(["remove-example"]) == 1
    assert "still uses the example" in capsys.readouterr().err
    assert (copy / config.SOURCE_DIR / "example").exists()
