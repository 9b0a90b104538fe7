"""Baking: every prompt combination renders a clean, complete project."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from file_sets import expected_files
from helpers import (
    ACTIONS_EXPRESSION,
    ALERT_TEMPLATE,
    CHOICES,
    JINJA,
    TEMPLATE,
    Bake,
    assert_ruff_clean,
    git,
    matrix,
    matrix_id,
    parse_generated,
    project_files,
    ruff,
)


@pytest.mark.parametrize("answers", matrix(), ids=matrix_id)
def test_every_combination_bakes_into_a_clean_project(bake: Bake, answers: dict[str, str]) -> None:
    project = bake(**answers)

    for name in project_files(project):
        text = (project / name).read_text(encoding="utf-8")
        checked = ACTIONS_EXPRESSION.sub("", text)
        if name.startswith("deploy/monitoring/"):
            checked = ALERT_TEMPLATE.sub("", checked)
        leftover = JINJA.findall(checked)
        assert not leftover, f"{name} still holds template syntax {leftover[:3]}"
        parse_generated(name, text)

    assert_ruff_clean(project)

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + answers["python_version"].replace(".", "")


@pytest.mark.parametrize("level", CHOICES["maturity_level"])
@pytest.mark.parametrize("framework", CHOICES["model_framework"])
@pytest.mark.parametrize("provider", CHOICES["ci_provider"])
def test_each_level_has_exactly_its_files(bake: Bake, level: str, framework: str, provider: str) -> None:
    project = bake(maturity_level=level, model_framework=framework, ci_provider=provider)
    assert project_files(project) == expected_files(level, framework, provider)


@pytest.mark.parametrize("level", CHOICES["maturity_level"])
def test_dependencies_follow_the_level(bake: Bake, level: str) -> None:
    project = bake(maturity_level=level)
    project_table = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project_table["dependencies"])
    pipeline = " ".join(project_table["optional-dependencies"]["pipeline"])
    automated = level != "1"
    assert ("dvc>=" in pipeline) is automated
    assert ("mlflow>=" in pipeline) is automated
    assert "great-expectations" in pipeline
    assert "fastapi" in runtime
    assert not {"dvc", "mlflow", "great-expectations", "torch"} & {
        dep.split(">")[0] for dep in project_table["dependencies"]
    }


def test_pytorch_projects_depend_on_torch_and_default_to_the_mlp(bake: Bake) -> None:
    project = bake(model_framework="pytorch")
    assert any(
        dep.startswith("torch")
        for dep in tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    assert yaml.safe_load((project / "params.yaml").read_text())["model"]["estimator"] == "mlp"


def test_every_command_uses_the_projects_own_environment(bake: Bake) -> None:
    """make exports .venv first on PATH (so dvc's `python -m` stages use it); CI and the image install uv.lock as is."""
    project = bake(maturity_level="3")
    makefile = (project / "Makefile").read_text()
    assert "export VIRTUAL_ENV := $(VENV_DIR)" in makefile
    assert "export PATH := $(BIN):$(PATH)" in makefile
    assert "uv sync --extra pipeline --extra dev $(call quote-words,$(SYNC_FLAGS))" in makefile
    assert "docker-build: uv.lock" in makefile
    assert all(
        stage["cmd"].startswith("python -m ")
        for stage in yaml.safe_load((project / "dvc.yaml").read_text())["stages"].values()
    )
    dockerfile = (project / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert "uv sync --frozen" in dockerfile
    assert "!uv.lock" in (project / ".dockerignore").read_text()
    assert "SYNC_FLAGS=--frozen" in (project / ".github/actions/setup/action.yml").read_text()
    assert "uv.lock" not in (project / ".gitignore").read_text()


@pytest.mark.parametrize(
    ("remote", "url"),
    [("local", "../../customer-churn-dvc-storage"), ("s3", "s3://"), ("gcs", "gs://"), ("azure", "azure://")],
)
def test_dvc_remote_follows_the_answer(bake: Bake, remote: str, url: str) -> None:
    config = (bake(maturity_level="2", dvc_remote=remote) / ".dvc/config").read_text()
    assert f"url = {url}" in config
    assert "remote = storage" in config


@pytest.mark.parametrize("license_name", CHOICES["license"])
def test_license_text_matches_the_choice(bake: Bake, license_name: str) -> None:
    text = (bake(license=license_name) / "LICENSE").read_text()
    expected = {
        "MIT": "MIT License",
        "Apache-2.0": "Apache License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Proprietary": "All rights reserved",
    }
    assert expected[license_name] in text
    assert "Jane Doe" in text or license_name == "Apache-2.0"


def test_answers_are_recorded_for_cruft(bake: Bake) -> None:
    project = bake(project_name="Fraud Scores", maturity_level="2")
    state = json.loads((project / ".cruft.json").read_text())
    answers = state["context"]["cookiecutter"]
    assert answers["project_slug"] == "fraud-scores"
    assert answers["module_name"] == "fraud_scores"
    assert answers["maturity_level"] == "2"
    assert not [key for key in answers if key.startswith("__")], "derived flags must be recomputed on update"
    assert Path(state["template"]).resolve() == TEMPLATE


def test_project_is_a_git_repository_on_main_with_one_clean_commit(bake: Bake) -> None:
    project = bake()
    assert git(project, "branch", "--show-current") == "main"
    assert len(git(project, "log", "--oneline").splitlines()) == 1
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%an <%ae>") == "Jane Doe <jane.doe@example.com>"


def test_long_names_still_give_lint_clean_code(bake: Bake) -> None:
    name = "Quarterly Enterprise Customer Retention Forecast X"
    project = bake(project_name=name, maturity_level="2", model_framework="pytorch")
    assert project.name == "quarterly-enterprise-customer-retention-forecast-x"
    assert_ruff_clean(project)


def imported_packages(source: Path, package: str) -> set[str]:
    """The first-level subpackages of `package` that the module at `source` imports (at any depth in the file)."""
    module = source.with_suffix("").parts[source.parts.index(package) :]
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(module[: len(module) - node.level]) if node.level else []
            target = base + (node.module.split(".") if node.module else [])
            names = [[*target, alias.name] for alias in node.names]
        else:
            continue
        found |= {name[1] for name in names if len(name) > 1 and name[0] == package}
    return found


def test_serving_and_monitoring_never_import_each_other(bake: Bake) -> None:
    """They meet only in the prediction log's package and in config.py: neither can break the other."""
    package = bake(maturity_level="3") / "src" / "customer_churn"
    imports = {
        part: {path.name: imported_packages(path, "customer_churn") for path in (package / part).glob("*.py")}
        for part in ("serving", "monitoring", "prediction_log")
    }
    assert all(imports.values())
    assert "gauges.py" in imports["serving"]
    assert "prediction_log" in imports["serving"]["rollout.py"]
    assert "prediction_log" in imports["monitoring"]["windows.py"]
    for part, other in (("serving", "monitoring"), ("monitoring", "serving")):
        offenders = {name for name, found in imports[part].items() if other in found}
        assert not offenders, f"{part}/{sorted(offenders)} import {other}"
    assert not [name for name, found in imports["prediction_log"].items() if found & {"serving", "monitoring"}]


def test_files_test_the_derived_flags_not_the_level_number() -> None:
    offenders = [
        path.relative_to(TEMPLATE).as_posix()
        for path in (TEMPLATE / "{{cookiecutter.project_slug}}").rglob("*")
        if path.is_file() and re.search(r"maturity_level\s*(==|!=|in\b|>|<)", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_hooks_are_valid_python_before_rendering() -> None:
    for hook in (TEMPLATE / "hooks").glob("*.py"):
        compile(hook.read_text(), hook.name, "exec")
    assert ruff("check", "--no-cache", "hooks", cwd=TEMPLATE).returncode == 0


def test_the_command_line_prints_the_next_two_commands(tmp_path: Path) -> None:
    result = subprocess.run(
        ["cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE)], capture_output=True, text=True, check=True
    )
    assert "make setup" in result.stdout
    assert "make pipeline" in result.stdout


def test_options_page_is_generated_from_the_prompts() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/options_doc.py", "--check"], cwd=TEMPLATE, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
