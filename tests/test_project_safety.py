"""Failed runs lose nothing, local state stays out of git, and make settings are never commands.

Each project is set up and run as a user does (`make setup`, `python -m <module> generate`,
`make pipeline`, `make serve` as its own process). A run with a quality gate it cannot meet
must fail loudly and leave the served model as it was: `models/model` at level 1, the
registry's champion (and `models/model`) at level 2. After the pipeline, the service and the
monitoring have run, git sees only what is meant to be committed. Values given to `make`
that hold shell or make syntax reach the real commands as text, which refuse them clearly, and
odd file names work as typed.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from helpers import RunningService, holdout_records, new_project, run

pytestmark = pytest.mark.slow
# the tests of one trained project run in one xdist worker, so it is trained once
ON_LEVEL_1 = pytest.mark.xdist_group("safety-level1")
ON_LEVEL_2 = pytest.mark.xdist_group("safety-level2")

LEVEL_1, LEVEL_2 = "gate_one", "gate_two"
PROMOTED = ("models/model/model.skops", "models/model/manifest.json", "models/holdout_scores.parquet")
# what a payload would create if any part of it ran as a command
PAYLOADS = ("x; touch pwned", "$(shell touch pwned)", "`touch pwned`", "$(touch pwned)", "x' ; touch pwned; echo '")


def trained(tmp_path_factory: pytest.TempPathFactory, level: str, module: str) -> Path:
    project = new_project(tmp_path_factory.mktemp(module), project_name=module.replace("_", " "), maturity_level=level)
    run(["python", "-m", module, "generate", "--size", "0.25"], project, activate=True)
    run(["make", "pipeline"], project)
    return project


@pytest.fixture(scope="module")
def level1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained(tmp_path_factory, "1", LEVEL_1)


@pytest.fixture(scope="module")
def level2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained(tmp_path_factory, "2", LEVEL_2)


def snapshot(project: Path) -> dict[str, bytes]:
    return {name: (project / name).read_bytes() for name in PROMOTED}


def unreachable_gate(project: Path) -> None:
    """A gate no model meets, and another learning rate: the candidate really differs from the model."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["gate"]["min_roc_auc"] = 0.999
    params["model"]["hist_gradient_boosting"]["learning_rate"] = 0.2
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def served_version(project: Path, module: str) -> str:
    with RunningService(project, module=module) as service:
        response = httpx.post(f"{service.url}/predict", json={"records": holdout_records(project, 1)})
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def champion(project: Path) -> str:
    with sqlite3.connect(project / "mlflow.db") as db:
        return str(db.execute("select version from registered_model_aliases where alias = 'champion'").fetchone()[0])


def assert_gate_failure_is_clear(result: subprocess.CompletedProcess[str], kept: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "quality gate failed:" in output
    assert "roc_auc = 0." in output
    assert "is below the minimum 0.999" in output
    assert f"models/candidate is not promoted: {kept}" in output


@ON_LEVEL_1
def test_level_1_a_run_below_the_gate_fails_and_the_last_good_model_is_still_served(level1: Path) -> None:
    before, version = snapshot(level1), served_version(level1, LEVEL_1)
    unreachable_gate(level1)
    failed = run(["make", "pipeline"], level1, check=False)
    assert_gate_failure_is_clear(failed, "models/model is unchanged")
    assert (level1 / "models/candidate/model.skops").read_bytes() != before["models/model/model.skops"]
    assert snapshot(level1) == before
    assert served_version(level1, LEVEL_1) == version
    run(["git", "checkout", "--", "params.yaml"], level1)


@ON_LEVEL_2
def test_level_2_a_run_below_the_gate_fails_and_keeps_the_champion_and_the_dvc_outputs(level2: Path) -> None:
    before, version = snapshot(level2), champion(level2)
    lock = (level2 / "dvc.lock").read_text()
    unreachable_gate(level2)
    failed = run(["make", "pipeline"], level2, check=False)
    assert_gate_failure_is_clear(failed, "models/model and the registry's champion are unchanged")
    assert "Running stage 'train'" in failed.stdout
    assert snapshot(level2) == before
    assert champion(level2) == version
    evaluate = yaml.safe_load((level2 / "dvc.lock").read_text())["stages"]["evaluate"]
    assert evaluate == yaml.safe_load(lock)["stages"]["evaluate"], "DVC records no evaluate that failed"
    run(["git", "checkout", "--", "params.yaml"], level2)
    run(["make", "pipeline"], level2)  # the next good run goes through
    assert "Data and pipelines are up to date" in run(["dvc", "status"], level2, activate=True).stdout


# what a level-2 project's git may see after the pipeline: the outputs meant to be committed
COMMITTED = {
    "uv.lock",
    "dvc.lock",
    "models/training.json",
    "reports/metrics.json",
    "reports/fairness.json",
    "reports/feature_importance.json",
    "reports/selected_features.json",
    "reports/validation.json",
    "reports/validation.md",
    "reports/plots/roc.csv",
    "reports/plots/confusion.csv",
    *(f"data/raw/{name}.csv.dvc" for name in ("customers", "transactions", "support_tickets", "labels")),
}


@ON_LEVEL_2
def test_local_state_stays_out_of_git_after_the_pipeline_the_service_and_monitoring(level2: Path) -> None:
    records = holdout_records(level2, 300)
    with RunningService(level2, module=LEVEL_2) as service:  # the default prediction log, reports/predictions.db
        for start in range(0, len(records), 100):
            answer = httpx.post(f"{service.url}/predict", json={"records": records[start : start + 100]}).json()
            labels = [int(prediction["probability"] > 0.9) for prediction in answer["predictions"]]
            httpx.post(f"{service.url}/feedback", json={"request_id": answer["request_id"], "labels": labels})
    assert (level2 / "reports/predictions.db").stat().st_size > 0
    run(["make", "drift"], level2)
    assert (level2 / "reports/drift.html").is_file()
    assert (level2 / "mlflow.db").is_file()

    status = run(["git", "status", "--porcelain", "--untracked-files=all"], level2).stdout.splitlines()
    untracked = {line[3:] for line in status if line.startswith("?? ")}
    assert untracked <= COMMITTED, f"git would offer to commit local state: {sorted(untracked - COMMITTED)}"
    assert [line for line in status if not line.startswith("?? ")] == [], "no generated file was changed"


@ON_LEVEL_2
@pytest.mark.parametrize(
    ("target", "setting", "refusal"),
    [
        ("drift", "CURRENT", "not a folder of raw sources"),
        ("serve", "PORT", "invalid int value"),
        ("adopt", "DATA", "no such file"),
        ("adopt", "TARGET", "no column"),
        ("adopt", "POSITIVE", "is not a value of 'churned'"),
        ("adopt", "ID", "no column"),
        ("adopt", "SENSITIVE", "no column"),
        ("adopt", "DROP", "no column"),
        ("docker-build", "MODEL_URI", "missing input"),
        ("setup", "SYNC_FLAGS", "unexpected argument"),
    ],
)
def test_make_settings_reach_the_commands_as_text(level2: Path, target: str, setting: str, refusal: str) -> None:
    # adopt gets a real table and target, so that the setting under test is what it refuses
    others = {"adopt": ["DATA=data/interim/model_input.parquet", "TARGET=churned"], "docker-build": ["CONTAINER=true"]}
    for payload in PAYLOADS if setting == "CURRENT" else PAYLOADS[:2]:  # tests/test_make_settings.py has them all
        command = ["make", target, *others.get(target, []), f"{setting}={payload}"]
        result = run(command, level2, check=False)
        assert result.returncode != 0, command
        assert refusal in result.stdout + result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
        assert not list(level2.rglob("pwned*")), f"{command} ran a command"
    assert run(["git", "status", "--porcelain", "src", "params.yaml"], level2).stdout == "", "nothing was adopted"


@ON_LEVEL_2
def test_a_batch_folder_named_with_spaces_quotes_and_dollars_is_monitored_as_typed(level2: Path) -> None:
    batch = 'data/external/it\'s a "batch" $(x)'
    run(
        ["python", "-m", LEVEL_2, "generate", "--size", "0.05", "--seed", "3", "--output", batch], level2, activate=True
    )
    run(["make", "drift", f"CURRENT={batch}"], level2)
    assert json.loads((level2 / "reports/drift.json").read_text())["current_source"] == batch


@ON_LEVEL_1
def test_a_table_named_with_spaces_and_quotes_is_adopted_as_typed(level1: Path) -> None:
    table = level1 / 'data/external/our "churn" customers\' list.csv'
    run(
        [
            "python",
            "-c",
            f"import pandas as p; p.read_parquet('data/interim/model_input.parquet').to_csv({str(table)!r}, index=False)",
        ],
        level1,
        activate=True,
    )
    adopted = run(["make", "adopt", f"DATA={table.relative_to(level1)}", "TARGET=churned", "SENSITIVE=gender"], level1)
    assert "Adopted 1 file(s) into data/raw: data/raw/our_churn_customers_list.csv" in adopted.stdout
