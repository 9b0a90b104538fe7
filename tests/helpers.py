"""Helpers for the template tests: the prompt matrix, read from cookiecutter.json so tests follow the prompts."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1]
CONTEXT: dict[str, Any] = json.loads((TEMPLATE / "cookiecutter.json").read_text())
CHOICES = {key: value for key, value in CONTEXT.items() if isinstance(value, list)}
MATRIX_KEYS = ("maturity_level", "model_framework", "python_version")
Bake = Callable[..., Path]

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
