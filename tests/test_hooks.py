"""Bad answers are refused before anything is written, with one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
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
    # any import name of the generated project's resolved dependencies, not only the direct ones
    ({"module_name": "requests"}, "dependency"),
    ({"module_name": "jinja2"}, "dependency"),
    ({"module_name": "click"}, "dependency"),
    ({"module_name": "pil"}, "dependency"),  # PIL, on a case-insensitive file system
    ({"module_name": "google"}, "dependency"),
    ({"module_name": "setuptools"}, "dependency"),
    # too long for a folder: the derived slug is bounded, so the hook refuses the name itself ...
    ({"project_name": "n" * 300}, "project_name is 300 characters long"),
    # ... and a slug typed that long is refused before cookiecutter tries to create the folder
    ({"project_slug": "s" * 300}, "project_slug_is_too_long"),
    ({"project_name": "two\nlines"}, "line break"),
    ({"description": "paragraph\u2029separator"}, "unprintable character U+2029"),
    ({"author_name": "delete\x7f"}, "unprintable character U+007F"),
    ({"project_name": "right\u202eto left"}, "unprintable character U+202E"),
    ({"author_email": "Jane <jane@example.com>"}, "git keeps"),
    ({"author_email": "jane>@example.com"}, "git keeps"),
    ({"author_email": "jane@example.com\n"}, "git keeps"),
    ({"author_email": "j" * 250 + "@example.com"}, "at most 254"),
    ({"container_registry": "ghcr.io/" + "o" * 250}, "at most 200"),
    ({"container_registry": "registry.example.com:99999/team"}, "port 99999"),
    ({"container_registry": "https://ghcr.io/team"}, "registry"),
    ({"container_registry": "ghcr.io//team"}, "registry"),
    ({"container_registry": "ghcr.io/team/"}, "registry"),
]
# refused by cookiecutter before the hook runs: its own last line says why
BEFORE_THE_HOOK = {"python_version", "maturity_level", "model_framework", "license"}


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


def test_shadowed_module_names_are_current() -> None:
    """cookiecutter.json lists the import names of the generated project's resolved dependencies."""
    result = subprocess.run(
        [sys.executable, "scripts/shadowed_modules.py", "--check"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("answers", "reason"), BAD_ANSWERS, ids=lambda value: str(value)[:40])
def test_bad_answer_is_refused_and_leaves_nothing_behind(tmp_path: Path, answers: dict[str, str], reason: str) -> None:
    output = tmp_path / "out"
    output.mkdir()
    result = bake_cli(output, answers)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    if reason in BEFORE_THE_HOOK or reason == "project_slug_is_too_long":
        # cookiecutter's refusal of a choice, or the slug guard in cookiecutter.json: the last line
        assert reason in lines[-1], result.stderr[-2000:]
    else:
        # one line from the hook names the answer and the reason; no derived answer is refused with it
        refusals = [line for line in lines if line.startswith("ERROR: ") and "hook script" not in line]
        assert len(refusals) == 1, result.stderr[-2000:]
        assert reason in refusals[0], result.stderr[-2000:]
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
