"""The generated README's monitoring demo, run command by command in a fresh level-3 project.

The commands are read from the README itself, so the documented demo cannot drift from what
works: data drift is found in age only; concept drift degrades the feedback loop, retraining
triggers and a challenger that beats the champion on the new data is promoted.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from helpers import new_project, run

pytestmark = pytest.mark.slow

MODULE = "demo_churn"


def demo_commands(readme: str) -> list[str]:
    section = readme.split("## Monitoring, feedback and retraining", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the README's monitoring section has no command block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.split("#", 1)[0].strip()]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = new_project(tmp_path_factory.mktemp("demo"), project_name="demo churn", maturity_level="3")
    run(["make", "pipeline"], project)
    return project


def champion(project: Path) -> int:
    with sqlite3.connect(project / "mlflow.db") as db:
        return int(db.execute("select version from registered_model_aliases where alias = 'champion'").fetchone()[0])


def test_the_readme_demo_finds_data_drift_then_retrains_after_concept_drift(project: Path) -> None:
    activate, *commands = demo_commands((project / "README.md").read_text())
    assert activate == "source .venv/bin/activate"
    assert [command.split()[:2] for command in commands] == [
        ["python", "-m"], ["make", "drift"], ["python", "-m"], ["make", "drift"], ["make", "retrain"]
    ]  # fmt: skip
    before = champion(project)
    reports = project / "reports"
    outcomes = []
    for command in commands:
        # each line in a fresh shell that first runs the block's activation line, as the user's terminal has it
        run(["bash", "-ec", f"{activate}\n{command}"], project)
        if command.startswith(("make drift", "make retrain")):
            outcome = {name: json.loads((reports / f"{name}.json").read_text()) for name in ("drift", "feedback")}
            outcomes.append({**outcome, "page": (reports / "drift.html").read_text()})
    older, flipped = outcomes[0], outcomes[1]
    assert older["drift"]["drifted_features"] == ["age"]
    assert "Drift detected in age" in older["page"]
    assert older["feedback"]["degraded"] is False
    assert flipped["drift"]["drifted_features"] == []
    assert flipped["feedback"]["degraded"] is True
    decision = json.loads((reports / "retrain_decision.json").read_text())
    assert decision["retrain"] is True
    assert decision["promoted"] is True, decision["reasons"]
    assert decision["challenger_metrics"]["roc_auc"] > decision["champion_metrics"]["roc_auc"]
    assert decision["challenger_metrics"]["accuracy"] > decision["champion_metrics"]["accuracy"]
    assert champion(project) == int(decision["challenger_version"]) > before
