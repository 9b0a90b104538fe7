"""The generated Makefile hands every setting to the commands as exact arguments, never as code.

Fast: the project's environment is a stand-in whose `python`, `uv` and container command only
record the arguments they receive, so each target's real recipe runs in milliseconds. A value
holding `;`, `$(shell ...)`, `$(...)`, backquotes or quotes must arrive as that very text, in
one argument (lists: one argument per word), whether given on make's command line or in the
environment, and run nothing. The slow twin (tests/test_project_safety.py) runs a real project.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import bake_project

MODULE = "customer_churn"
PAYLOADS = (
    "x; touch pwned",
    "$(shell touch pwned)",
    "$$(touch pwned) `touch pwned`",
    "x' ; touch pwned; echo '",
    'x" ; touch pwned; echo "',
    "a \\ b $HOME * ?",
)
RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A level-3 project whose .venv only records: python, uv, dvc, ruff and a container command."""
    project = bake_project(tmp_path_factory.mktemp("make"), maturity_level="3")
    (project / "uv.lock").write_text("")
    bin_dir = project / ".venv/bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "uv", "dvc", "ruff", "docker"):
        (bin_dir / name).write_text(RECORDER.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    return project


def make(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, list]:
    """Run make; return its result and the argument lists the stand-ins received."""
    record = project / "record.jsonl"
    record.unlink(missing_ok=True)
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "RECORD": str(record)}
    result = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=project, env={**environment, **(env or {})},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    calls = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    assert not list(project.rglob("pwned")), f"make {args} ran a command:\n{result.stdout}{result.stderr}"
    return result, calls


def cli(*args: str) -> list[str]:
    return ["python", "-m", MODULE, *args]


@pytest.mark.parametrize("value", PAYLOADS)
def test_single_values_arrive_as_one_exact_argument(project: Path, value: str) -> None:
    expected = {
        ("drift", "CURRENT"): [cli("drift", "--current-raw", value), cli("feedback", "--current-raw", value)],
        ("retrain", "CURRENT"): [cli("retrain", "--new-data", value)],
        ("serve", "PORT"): [cli("serve", "--host", "127.0.0.1", "--port", value)],
    }
    for (target, setting), calls in expected.items():
        assert make(project, target, f"{setting}={value}")[1] == calls, (target, setting)
        assert make(project, target, env={setting: value})[1] == calls, (target, setting, "from the environment")


SENSITIVE_AND_DROP = ("--sensitive", "gender", "region", "--drop", "a")


@pytest.mark.parametrize("value", PAYLOADS)
def test_adopt_passes_each_column_setting_exactly(project: Path, value: str) -> None:
    settings = [f"TARGET={value}", f"POSITIVE={value}", f"ID={value}", "SENSITIVE=gender region", "DROP=a"]
    result, calls = make(project, "adopt", "DATA=table.csv", *settings)
    assert result.returncode == 0, result.stderr
    assert calls == [
        cli("adopt", "table.csv", "--target", value, "--positive", value, "--id", value, *SENSITIVE_AND_DROP)
    ]


def test_adopt_data_is_one_file_as_named_or_a_list_of_files(project: Path) -> None:
    odd = project / 'data/external/our "churn" list\'s $(x).csv'
    odd.write_text("")
    one = make(project, "adopt", f"DATA={odd.relative_to(project)}", "TARGET=y")[1]
    assert one == [cli("adopt", str(odd.relative_to(project)), "--target", "y")]
    for name in ("part-1.csv", "part-2.csv"):
        (project / "data/external" / name).write_text("")
    listed = make(project, "adopt", "DATA=data/external/part-*.csv x; touch pwned", "TARGET=y")[1]
    assert listed == [
        cli("adopt", "data/external/part-1.csv", "data/external/part-2.csv", "x;", "touch", "pwned", "--target", "y")
    ]
    usage, calls = make(project, "adopt", "DATA=$(shell touch pwned)")
    assert usage.returncode == 2
    assert "usage: make adopt DATA=file.csv TARGET=column" in usage.stdout
    assert calls == []


@pytest.mark.parametrize("value", PAYLOADS)
def test_image_build_settings_arrive_exactly(project: Path, value: str) -> None:
    docker = str(project / ".venv/bin/docker")
    settings = [f"MODEL_URI={value}", f"IMAGE={value}", f"BASE_IMAGE={value}", "BUILD_FLAGS=--pull --label a=b"]
    result, calls = make(project, "docker-build", f"CONTAINER={docker}", *settings)
    assert result.returncode == 0, result.stderr
    assert calls == [
        cli("export", "--model-uri", value, "--output", "build/model"),
        ["docker", "build", "--pull", "--label", "a=b", "--build-arg", f"BASE_IMAGE={value}", "-t", value, "."],
    ]
    batch = [f"BATCH_IMAGE={value}", f"BASE_IMAGE={value}", "BUILD_FLAGS=--pull"]
    result, calls = make(project, "docker-build-batch", f"CONTAINER={docker}", *batch)
    assert result.returncode == 0, result.stderr
    assert calls == [
        cli("export", "--output", "build/model"),
        ["docker", "build", "--pull", "--build-arg", f"BASE_IMAGE={value}", "--target", "batch", "-t", value, "."],
    ]


@pytest.mark.parametrize("value", PAYLOADS)
def test_setup_settings_arrive_exactly(project: Path, value: str) -> None:
    result, calls = make(project, "setup", f"SYNC_FLAGS=--frozen {value}", f"PYTHON={value}", f"UV_VERSION={value}")
    assert result.returncode == 0, result.stderr
    assert calls == [["uv", "sync", "--extra", "pipeline", "--extra", "dev", "--frozen", *value.split()]]
    fresh, _ = make(project, "setup", f"VENV=fresh {value}", f"PYTHON={value}")
    assert fresh.returncode != 0, "no interpreter of that name: venv creation fails, and runs nothing"


def test_a_setting_must_fit_on_one_line(project: Path) -> None:
    result, calls = make(project, "drift", "CURRENT=batch\ntouch pwned")
    assert result.returncode != 0
    assert "a make setting must be one line" in result.stderr
    assert calls == []
