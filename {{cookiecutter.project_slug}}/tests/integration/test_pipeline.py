"""The whole pipeline, stage by stage through the CLI, on a small sample in a temporary folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.models import persistence
from {{ cookiecutter.module_name }}.models.persistence import load_model
from {{ cookiecutter.module_name }}.schema import ID, MODEL_INPUT, RAW_SOURCES, Column, Table

pytestmark = pytest.mark.integration


def test_pipeline_produces_a_model_metrics_plots_and_a_validation_report(trained: Path) -> None:
    metrics = json.loads((trained / "reports/metrics.json").read_text())
    assert metrics["gate_passed"] is True
    assert metrics["roc_auc"] > 0.7
    assert metrics["roc_auc_over_baseline"] == pytest.approx(metrics["roc_auc"] - 0.5)
    assert {"accuracy", "f1", "roc_auc", "average_precision", "baseline", "fairness"} <= metrics.keys()
    assert {"demographic_parity_difference", "equal_opportunity_difference", "status"} <= metrics["fairness"].keys()
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


def test_the_promoted_model_records_the_threshold_it_was_evaluated_at(trained: Path) -> None:
    """The service answers with the manifest's threshold, so it cannot disagree with the evaluation."""
    params = yaml.safe_load((trained / "params.yaml").read_text())
    assert persistence.read_manifest(trained / "models/model")["threshold"] == params["evaluate"]["threshold"]
    params["evaluate"]["threshold"] = 0.55
    (trained / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["evaluate"]) == 0
    assert persistence.model_threshold(trained / "models/model") == 0.55
    assert json.loads((trained / "reports/metrics.json").read_text())["gate_passed"] is True


def raw_home(column: Column) -> tuple[Table, str]:
    """The raw source (and its header) that a model-input column comes from."""
    header = column.source or column.name
    return next(table for table in RAW_SOURCES if header in table.names), header


def rewrite(project: Path, table: Table, change: Callable[[pd.DataFrame], pd.DataFrame] | None) -> None:
    """Apply `change` to a raw source's file in place (None: empty the file)."""
    path = project / "data/raw" / table.files[0]
    if change is None:
        path.write_bytes(b"")
        return
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    changed = change(frame)
    changed.to_parquet(path, index=False) if path.suffix in (".parquet", ".pq") else changed.to_csv(path, index=False)


def _with(header: str, value: object, rows: int = 3) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(table: pd.DataFrame) -> pd.DataFrame:
        table = table.astype({header: object})
        table.loc[: rows - 1, header] = value
        return table

    return corrupt


def corruption(kind: str, feature: Callable[..., Column]) -> tuple[Table, Callable | None, str]:
    """A way to break the raw data, aimed at a contract column, and the failure it must cause."""
    if kind == "duplicated ids":
        if ID is None:
            pytest.skip("the data contract has no id column")
        table, header = raw_home(MODEL_INPUT.column(ID))
        return table, lambda t: pd.concat([t, t.head(2)]), f"expect_column_values_to_be_unique on column {header!r}"
    if kind == "empty file":
        table, _ = raw_home(feature("int", "float", "category"))
        return table, None, "expect_table_row_count_to_be_between on table"
    if kind == "nulls in a required column":
        table, header = raw_home(feature("int", "float", "category", nullable=False))
        return table, _with(header, None), f"expect_column_values_to_not_be_null on column {header!r}"
    bounded = feature("int", "float", bounded=True)
    table, header = raw_home(bounded)
    if kind == "missing column":
        return table, lambda t: t.drop(columns=[header]), f"expect_column_to_exist on column {header!r}"
    if kind == "values out of range":
        return table, _with(header, bounded.max + 1), f"expect_column_values_to_be_between on column {header!r}"
    return table, _with(header, "forty"), f"expect_column_values_to_be_in_type_list on column {header!r}"


CORRUPTIONS = (
    "missing column",
    "nulls in a required column",
    "values out of range",
    "wrong type",
    "duplicated ids",
    "empty file",
)


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupt_raw_data_stops_at_validation_and_keeps_the_last_good_model(
    trained: Path, capsys: pytest.CaptureFixture[str], kind: str, feature: Callable[..., Column]
) -> None:
    model_before = (trained / "models/model/model.skops").read_bytes()
    metrics_before = (trained / "reports/metrics.json").read_text()
    table, change, expected = corruption(kind, feature)
    rewrite(trained, table, change)

    assert main(["ingest"]) == 0  # ingest reads leniently so that validate can name the problem
    assert main(["validate"]) == 1
    message = capsys.readouterr().err
    assert f"{table.file}: {expected}" in message
    assert (trained / "models/model/model.skops").read_bytes() == model_before
    assert (trained / "reports/metrics.json").read_text() == metrics_before


def test_a_violation_names_a_few_offending_values(
    trained: Path, capsys: pytest.CaptureFixture[str], feature: Callable[..., Column]
) -> None:
    bounded = feature("int", bounded=True)
    table, header = raw_home(bounded)
    rewrite(trained, table, _with(header, int(bounded.max) + 7))
    assert main(["ingest"]) == 0
    assert main(["validate"]) == 1
    value = int(bounded.max) + 7
    assert f"3 unexpected value(s), e.g. ['{value}', '{value}', '{value}']" in capsys.readouterr().err


def test_a_holdout_too_small_to_evaluate_stops_with_a_clear_message(
    trained: Path, capsys: pytest.CaptureFixture[str], update_params: Callable[..., None]
) -> None:
    update_params(trained, evaluate={"min_rows_per_class": 100_000})
    assert main(["evaluate"]) == 1
    assert "evaluating needs at least 100000 of each" in capsys.readouterr().err


def test_missed_quality_gate_fails_the_evaluate_stage(
    trained: Path, capsys: pytest.CaptureFixture[str], update_params: Callable[..., None]
) -> None:
    update_params(trained, gate={"min_roc_auc": 0.999})
    assert main(["evaluate"]) == 1
    assert "roc_auc" in capsys.readouterr().err
    assert json.loads((trained / "reports/metrics.json").read_text())["gate_passed"] is False


MODEL_FILE = "models/model/model.skops"
PROMOTED = (MODEL_FILE, "models/model/manifest.json", "models/holdout_scores.parquet")


def retrain_differently(project: Path, **gate: float) -> None:
    """A new candidate (another seed) that differs from the promoted model, under these gate bounds."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["seed"] += 1
    params["gate"].update(gate)
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["train"]) == 0
    assert (project / "models/candidate/model.skops").read_bytes() != (project / MODEL_FILE).read_bytes()


def snapshot(project: Path, *names: str) -> dict[str, bytes]:
    return {name: (project / name).read_bytes() for name in names}


def leftovers(project: Path) -> list[Path]:
    return [*project.glob("models/.*.tmp"), *project.glob("models/.*.previous")]


def test_a_candidate_below_the_gate_is_not_promoted_and_the_last_good_model_stays(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(trained, *PROMOTED)
    retrain_differently(trained, min_roc_auc=0.999)
    assert main(["evaluate"]) == 1
    message = capsys.readouterr().err
    assert "roc_auc = " in message
    assert "is below the minimum 0.999" in message
    assert "models/candidate is not promoted" in message
    assert snapshot(trained, *PROMOTED) == before
    load_model(trained / "models/model")
    assert json.loads((trained / "reports/metrics.json").read_text())["gate_passed"] is False


def test_a_candidate_that_passes_the_gate_is_promoted(trained: Path) -> None:
    retrain_differently(trained)
    assert main(["evaluate"]) == 0
    assert (trained / MODEL_FILE).read_bytes() == (trained / "models/candidate/model.skops").read_bytes()


KILLED_MID_WRITE = """
import os, signal, sys, types
import skops.io
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.models import persistence

def killed(*args, **kwargs):
    # the destination gets part of its content, then the process dies as under `kill -9`
    destination = args[1]
    target = destination / "model.skops" if os.path.isdir(destination) else destination
    with open(target, "wb") as handle:
        handle.write(b"part of a model")
    os.kill(os.getpid(), signal.SIGKILL)

skops.io.dump = killed  # writing a model
persistence.shutil = types.SimpleNamespace(copytree=killed)  # promoting one
sys.exit(main([sys.argv[1]]))
"""


@pytest.mark.parametrize(("stage", "kept"), [("train", "models/candidate"), ("evaluate", "models/model")])
def test_a_stage_killed_while_writing_leaves_the_last_good_outputs_whole(trained: Path, stage: str, kept: str) -> None:
    retrain_differently(trained)
    before = snapshot(trained, f"{kept}/model.skops", f"{kept}/manifest.json")
    command = [sys.executable, "-c", KILLED_MID_WRITE, stage]
    env = {**os.environ, "PYTHONPATH": str(Path(persistence.__file__).parents[2])}  # the package's folder
    killed = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert snapshot(trained, f"{kept}/model.skops", f"{kept}/manifest.json") == before
    load_model(trained / kept)
    assert main([stage]) == 0, "the next run starts over"
    assert leftovers(trained) == [], "and removes what the killed run left"


def test_an_exception_after_a_partial_write_leaves_the_last_good_model_whole(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retrain_differently(trained)
    before = snapshot(trained, *PROMOTED)

    def fails_half_way(source: Path, destination: Path, **kwargs: object) -> None:
        (destination / "model.skops").write_bytes(b"part of a model")
        raise OSError("no space left on device")

    monkeypatch.setattr(persistence, "shutil", SimpleNamespace(copytree=fails_half_way))
    with pytest.raises(OSError, match="no space left"):
        main(["evaluate"])
    assert snapshot(trained, *PROMOTED) == before
    assert leftovers(trained) == []


def test_a_stage_without_its_inputs_says_what_is_missing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["featurize"]) == 1
    assert "missing input" in capsys.readouterr().err
