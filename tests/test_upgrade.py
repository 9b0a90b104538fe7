"""Moving a project up a maturity level with cruft keeps the user's work and leaves a project that runs.

The template's files on disk are committed into a temporary git repository (cruft needs one),
a level-1 project is generated from it, run, changed by its "user" and committed; then
`cruft update` moves it to level 2 and to level 3. After each move the project must hold no
conflict, exactly the new level's files plus the user's, and pass its own `make test` and
`make pipeline`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from file_sets import expected_files
from helpers import TEMPLATE, assert_gate_met, bake_project, registered_versions, run, setup_project

pytestmark = pytest.mark.slow

FRAMEWORK = "sklearn"
GIT_IDENTITY = ["-c", "user.name=Jane Doe", "-c", "user.email=jane.doe@example.com", "-c", "commit.gpgsign=false"]
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "site", "__pycache__", ".pytest_cache", ".ruff_cache")

# the user's changes, made at level 1: a constructed feature the pipeline selects, its test,
# a tuned parameter in a file the levels also change, a rewritten paragraph of the docs, and
# edits in the code a higher level extends (the service, the stages, the CLI)
USER_FEATURE = "      - [recency_per_tenure_month, days_since_last_txn, tenure_months]\n"
FEATURE_ANCHOR = "      - [fee_to_spend, monthly_fee, txn_mean]\n"
USER_TEST = "tests/unit/test_recency_feature.py"
USER_TEST_TEXT = '''"""The recency-per-tenure ratio: long silences weigh more for young contracts."""

from __future__ import annotations

import pandas as pd
import pytest

from customer_churn.config import load_params
from customer_churn.features.construct import RatioFeatures


def test_recency_per_tenure_month_is_constructed() -> None:
    ratios = load_params()["features"]["construct"]["ratios"]
    ratio = next(ratio for ratio in ratios if ratio[0] == "recency_per_tenure_month")
    frame = pd.DataFrame({"days_since_last_txn": [30, 365], "tenure_months": [2, 0]})
    out = RatioFeatures(ratios=[ratio]).fit_transform(frame)
    assert out["recency_per_tenure_month"].tolist() == pytest.approx([10.0, 365.0])
'''
USER_PARAGRAPH = (
    "`validate` enforces our label contract: a cancellation counts only when the billing system\n"
    "confirms it, and the retention team reviews every edge case listed above each quarter.\n"
)
LABELING_PARAGRAPH = "`validate` enforces the label's contract before anything is trained"
# file -> (what the template wrote, what the user made of it)
USER_CODE_EDITS = {
    "src/customer_churn/serving/service.py": (
        '"model could not be loaded; /health/ready answers 503"',
        '"model could not be loaded; /health/ready answers 503 (see the team runbook)"',
    ),
    "src/customer_churn/stages.py": (
        '"candidate saved to %s: evaluate promotes it if it passes the quality gate"',
        '"candidate saved to %s: run evaluate to promote it past the quality gate"',
    ),
    "src/customer_churn/cli.py": (
        'log.info("wrote %s", SCHEMA_DOC)',
        'log.info("wrote %s: commit it with the contract change", SCHEMA_DOC)',
    ),
}


def git(project: Path, *args: str) -> str:
    return run(["git", *GIT_IDENTITY, *args], project).stdout


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)


def copy_template(destination: Path) -> Path:
    """The template as it is on disk (committed or not), as a one-commit git repository."""
    if (TEMPLATE / ".git").exists():
        listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], TEMPLATE).stdout
        for name in filter(None, listed.split("\0")):
            source = TEMPLATE / name
            if source.is_file():
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / name)
    else:
        shutil.copytree(TEMPLATE, destination, ignore=COPY_IGNORE)
    run(["git", "init", "--quiet", "--initial-branch=main"], destination)
    commit_all(destination, "template")
    return destination


def generate(template: Path, output: Path, level: str) -> Path:
    return bake_project(output, template, maturity_level=level, model_framework=FRAMEWORK)


def cruft(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # cruft is the user's own tool, installed once anywhere on PATH (here: next to this test run's Python)
    return run([str(Path(sys.executable).parent / "cruft"), *args], project, check=False)


def make(project: Path, target: str) -> subprocess.CompletedProcess[str]:
    return run(["make", target], project)


def is_generated_output(name: str) -> bool:
    """What the pipeline writes (and DVC or git then records), as opposed to the project's own files."""
    return name == "dvc.lock" or (name.startswith(("data/", "models/", "reports/")) and not name.endswith(".gitkeep"))


def project_files(project: Path) -> set[str]:
    listed = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return {name for name in listed.split("\0") if name and not is_generated_output(name)}


def conflicts(project: Path) -> list[str]:
    """Files with merge markers, .rej files, and paths git still sees as unmerged."""
    found = [
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.relative_to(project).parts
        and (path.suffix == ".rej" or b"\n<<<<<<< " in path.read_bytes() or b"\n>>>>>>> " in path.read_bytes())
    ]
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
    return sorted({*found, *unmerged})


def make_user_changes(project: Path) -> None:
    (project / USER_TEST).write_text(USER_TEST_TEXT)
    params = project / "params.yaml"
    text = params.read_text()
    assert FEATURE_ANCHOR in text
    params.write_text(text.replace(FEATURE_ANCHOR, FEATURE_ANCHOR + USER_FEATURE).replace("  k: 18 ", "  k: 19 "))
    labeling = project / "docs/labeling.md"
    text = labeling.read_text()
    start = text.index(LABELING_PARAGRAPH)
    end = text.index("\n\n", start) + 1
    labeling.write_text(text[:start] + USER_PARAGRAPH + text[end:])
    for name, (original, edited) in USER_CODE_EDITS.items():
        text = (project / name).read_text()
        assert text.count(original) == 1, name
        (project / name).write_text(text.replace(original, edited))


def assert_user_changes_kept(project: Path) -> None:
    assert USER_FEATURE in (project / "params.yaml").read_text()
    assert (project / USER_TEST).read_text() == USER_TEST_TEXT
    assert "  k: 19 " in (project / "params.yaml").read_text()
    labeling = (project / "docs/labeling.md").read_text()
    assert USER_PARAGRAPH in labeling
    assert LABELING_PARAGRAPH not in labeling
    for name, (_, edited) in USER_CODE_EDITS.items():
        assert edited in (project / name).read_text(), name


def move_up(project: Path, level: str, template_commit: str) -> None:
    """`cruft update` to the level, then the checks every move must pass, then commit."""
    result = cruft(
        project, "update", "--skip-apply-ask", "--variables-to-update", json.dumps({"maturity_level": level})
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert conflicts(project) == [], result.stdout + result.stderr
    state = json.loads((project / ".cruft.json").read_text())
    assert state["context"]["cookiecutter"]["maturity_level"] == level
    assert state["commit"] == template_commit
    assert_user_changes_kept(project)
    # uv.lock: written by the first `make setup`, committed by the user
    files, expected = project_files(project), {*expected_files(level, FRAMEWORK), USER_TEST, "uv.lock"}
    assert files == expected, f"unexpected {sorted(files - expected)}, missing {sorted(expected - files)}"
    # the upgrade brings files only: no data or model may have become visible to git
    assert not [name for name in git(project, "status", "--porcelain").splitlines() if is_generated_output(name[3:])]

    make(project, "setup")  # the new level's dependencies, as the README says
    make(project, "test")
    make(project, "pipeline")
    metrics = assert_gate_met(project)
    assert metrics["roc_auc"] > 0.8
    selected = json.loads((project / "reports/selected_features.json").read_text())["selected"]
    assert "recency_per_tenure_month" in selected
    assert len(selected) == 19
    # level 2+: the level-1 raw files are now versioned by DVC, every output is DVC's, git sees pointers only
    for raw in ("customers", "transactions", "support_tickets", "labels"):
        assert (project / f"data/raw/{raw}.csv.dvc").is_file()
    assert "Data and pipelines are up to date" in run(["dvc", "status"], project, activate=True).stdout
    assert registered_versions(project) >= 1
    with sqlite3.connect(project / "mlflow.db") as db:
        assert db.execute("select count(*) from registered_model_aliases where alias = 'champion'").fetchone() == (1,)
    commit_all(project, f"Move to maturity level {level}")
    tracked = git(project, "ls-files", "data", "models").split()
    assert [name for name in tracked if not name.endswith((".gitkeep", ".dvc", "models/training.json"))] == []
    assert git(project, "status", "--porcelain") == ""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def installed(tmp_path: Path, template: Path) -> Path:
    return setup_project(generate(template, tmp_path, "1"))


def test_a_level_1_project_moves_to_level_2_then_3_keeping_the_users_work(installed: Path, template: Path) -> None:
    project = installed
    template_commit = git(template, "rev-parse", "HEAD").strip()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == template_commit

    make(project, "pipeline")
    commit_all(project, "First model")
    make_user_changes(project)
    commit_all(project, "Recency per tenure month; our label contract")
    assert git(project, "status", "--porcelain") == ""

    move_up(project, "2", template_commit)
    assert (project / "dvc.yaml").is_file()
    # the level-1 data now lives in the DVC remote: it comes back after the workspace loses it
    raw = project / "data/raw/customers.csv"
    expected = raw.read_bytes()
    run(["dvc", "push"], project, activate=True)
    raw.unlink()
    shutil.rmtree(project / ".dvc/cache")
    run(["dvc", "pull"], project, activate=True)
    assert raw.read_bytes() == expected
    assert not (project / "deploy").exists()
    move_up(project, "3", template_commit)


def test_cruft_check_sees_a_newer_template_and_update_brings_it_in(tmp_path: Path, template: Path) -> None:
    source = tmp_path / "template"
    run(["git", "clone", "--quiet", str(template), str(source)], tmp_path)
    project = generate(source, tmp_path / "out", "1")
    assert cruft(project, "check").returncode == 0

    page = source / "{{cookiecutter.project_slug}}/notebooks/README.md"
    line = "Clear the outputs of a notebook before committing it.\n"
    page.write_text(page.read_text() + "\n" + line)
    commit_all(source, "A line in the notebooks guide")

    outdated = cruft(project, "check")
    assert outdated.returncode != 0
    assert "out of date" in outdated.stdout + outdated.stderr
    updated = cruft(project, "update", "--skip-apply-ask")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert conflicts(project) == []
    assert (project / "notebooks/README.md").read_text().endswith(line)
    assert cruft(project, "check").returncode == 0
    commit_all(project, "Template update")
    assert git(project, "status", "--porcelain") == ""


def switch_provider(project: Path, provider: str, registry: str) -> None:
    answers = {"ci_provider": provider, "container_registry": registry}
    result = cruft(project, "update", "--skip-apply-ask", "--variables-to-update", json.dumps(answers))
    assert result.returncode == 0, result.stdout + result.stderr
    assert conflicts(project) == [], result.stdout + result.stderr
    assert project_files(project) == set(expected_files("3", FRAMEWORK, provider))
    assert f"{registry}/customer-churn" in (project / "README.md").read_text()
    commit_all(project, f"CI/CD on {provider}")
    assert git(project, "status", "--porcelain") == ""


def test_cruft_update_moves_a_project_between_ci_providers_and_back(tmp_path: Path, template: Path) -> None:
    project = generate(template, tmp_path, "3")
    switch_provider(project, "gitlab", "registry.gitlab.com/jane-doe")
    assert not (project / ".github").exists()
    assert "registry.gitlab.com/jane-doe/customer-churn" in (project / ".gitlab-ci.yml").read_text()
    switch_provider(project, "github", "ghcr.io/jane-doe")
    assert not (project / ".gitlab").exists()
    assert not (project / ".gitlab-ci.yml").exists()
