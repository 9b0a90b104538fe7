"""Bad answers are refused before anything is written, with one clear line per problem."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import TEMPLATE

BAD_ANSWERS = [
    ({"module_name": "1churn"}, "not a Python identifier"),
    ({"module_name": "churn-model"}, "not a Python identifier"),
    ({"module_name": "churn.model"}, "not a Python identifier"),
    ({"module_name": "class"}, "keyword"),
    ({"module_name": "match"}, "keyword"),
    ({"module_name": "json"}, "standard-library"),
    ({"module_name": "logging"}, "standard-library"),
    ({"module_name": "mlflow"}, "dependency"),
    ({"module_name": "torch"}, "dependency"),
    ({"module_name": "sklearn"}, "dependency"),
    ({"module_name": "great_expectations"}, "dependency"),
    ({"module_name": "tests"}, "dependency or folder"),
    ({"module_name": "ChurnModel"}, "upper case"),
    ({"module_name": "_churn"}, "private"),
    ({"project_slug": "Churn-Model"}, "DNS-1123"),
    ({"project_slug": "churn_model"}, "DNS-1123"),
    ({"project_slug": "-churn"}, "DNS-1123"),
    ({"project_slug": "churn-"}, "DNS-1123"),
    ({"project_slug": "1churn"}, "DNS-1123"),
    ({"project_slug": "churn model"}, "DNS-1123"),
    ({"project_slug": "a" * 60}, "at most 50"),
    ({"module_name": "m" * 51}, "at most 50"),
    ({"project_slug": "../escape"}, "DNS-1123"),
    ({"python_version": "3.9"}, "python_version"),
    ({"python_version": "3.13"}, "python_version"),
    ({"author_email": "jane"}, "not an e-mail"),
    ({"author_email": "jane@localhost"}, "not an e-mail"),
    ({"author_email": "jane doe@example.com"}, "not an e-mail"),
    ({"github_owner": "-jane"}, "GitHub"),
    ({"container_registry": "GHCR.io/Jane"}, "registry"),
    ({"project_name": " "}, "project_name is empty"),
    ({"maturity_level": "4"}, "maturity_level"),
    ({"model_framework": "tensorflow"}, "model_framework"),
    ({"license": "GPL"}, "license"),
]


CHOICE_KEYS = {"python_version", "maturity_level", "model_framework", "license"}


def bake_cli(output: Path, answers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(
        ["cookiecutter", "--no-input", "-o", str(output), str(TEMPLATE), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_there_are_at_least_twenty_refusals() -> None:
    assert len(BAD_ANSWERS) >= 20


@pytest.mark.parametrize(("answers", "reason"), BAD_ANSWERS, ids=lambda value: str(value)[:40])
def test_bad_answer_is_refused_and_leaves_nothing_behind(tmp_path: Path, answers: dict[str, str], reason: str) -> None:
    output = tmp_path / "out"
    output.mkdir()
    result = bake_cli(output, answers)
    assert result.returncode != 0
    # the last line says what is wrong: the hook's own message, or cookiecutter's refusal of a choice
    message = result.stderr.strip().splitlines()[-1] if reason in CHOICE_KEYS else result.stderr
    assert reason in message, result.stderr[-2000:]
    assert list(output.iterdir()) == []
    assert not (tmp_path / "escape").exists()


def test_the_refusal_names_the_answer_and_what_is_accepted(tmp_path: Path) -> None:
    result = bake_cli(tmp_path, {"module_name": "json"})
    line = next(line for line in result.stderr.splitlines() if line.startswith("ERROR:"))
    assert "module_name 'json'" in line
    assert "pick another name" in line


def test_a_valid_answer_set_is_accepted(tmp_path: Path) -> None:
    result = bake_cli(
        tmp_path, {"project_name": "Churn 2", "author_email": "a.b@example.org", "python_version": "3.12"}
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "churn-2" / "src" / "churn_2").is_dir()
