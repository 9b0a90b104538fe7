"""Helpers for the template tests: the prompt matrix, read from cookiecutter.json so tests follow the prompts."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
CONTEXT: dict[str, Any] = json.loads((TEMPLATE / "cookiecutter.json").read_text())
CHOICES = {key: value for key, value in CONTEXT.items() if isinstance(value, list)}
MATRIX_KEYS = ("maturity_level", "model_framework", "python_version")
Bake = Callable[..., Path]

JINJA = re.compile(r"\{\{|\}\}|\{%|%\}|\{#")
# GitHub Actions expressions are double braces a generated file may hold
ACTIONS_EXPRESSION = re.compile(r"\$\{\{ [^{}]+ \}\}")
# Prometheus alert templates ({{ $value }}) may stand in the generated alert rules only
ALERT_TEMPLATE = re.compile(r"\{\{ \$[\w.]+(?: \| \w+)? \}\}")
# the macros that escape a free-text answer for the file it lands in (templates/answers.jinja)
ANSWER_MACROS = (
    jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE / "templates")).get_template("answers.jinja").module
)

# the local Python base image that container builds use instead of Docker Hub's (see conftest.base_image)
BASE_IMAGE = "localhost/mlops-template-python:3.11"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

for variable, value in {
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(variable, value)


def project_files(project: Path) -> list[str]:
    return sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    )


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ruff", *args], cwd=cwd, capture_output=True, text=True, check=False)


def assert_ruff_clean(project: Path) -> None:
    check = ruff("check", "--no-cache", ".", cwd=project)
    assert check.returncode == 0, check.stdout
    formatted = ruff("format", "--no-cache", "--check", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout


def parse_generated(name: str, text: str) -> None:
    """Parse a generated file by its kind: YAML, TOML, JSON or Python; others pass."""
    if name.endswith((".yaml", ".yml")):
        yaml.safe_load(text)
    elif name.endswith(".toml"):
        tomllib.loads(text)
    elif name.endswith(".json"):
        json.loads(text)
    elif name.endswith(".py"):
        compile(text, name, "exec")


def jinja_literal(answer: str) -> str:
    """The answer as cookiecutter must receive it on the command line to keep it as typed.

    cookiecutter renders answers given with --no-input (and cruft the recorded ones) as Jinja
    templates; each opening brace written as an expression renders back to itself.
    """
    return answer.replace("{", "{{ '{' }}")


def matrix() -> list[dict[str, str]]:
    """Every level x framework x Python version; the other choices are cycled through."""
    combos = list(itertools.product(*(CHOICES[key] for key in MATRIX_KEYS)))
    others = {key: values for key, values in CHOICES.items() if key not in MATRIX_KEYS}
    return [
        {
            **dict(zip(MATRIX_KEYS, combo, strict=True)),
            **{key: values[i % len(values)] for key, values in others.items()},
        }
        for i, combo in enumerate(combos)
    ]


def matrix_id(answers: dict[str, str]) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items())


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    assert not check or result.returncode == 0, f"podman {' '.join(args)}: {result.stderr[-2000:]}"
    return result
