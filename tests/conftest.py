"""Fixtures for the template tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import BASE_IMAGE, Bake, bake_project, new_project, podman, run

BASE_CONTAINERFILE = """FROM localhost/mlops-template-debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \\
    && ln -s /usr/bin/python3 /usr/local/bin/python && rm -rf /var/lib/apt/lists/*
"""


@pytest.fixture
def bake(tmp_path_factory: pytest.TempPathFactory) -> Bake:
    """Bake with the given answers, each call into a folder of its own; cookiecutter's error fails the test."""

    def _bake(**answers: str) -> Path:
        return bake_project(tmp_path_factory.mktemp("baked"), **answers)

    return _bake


@pytest.fixture(scope="session")
def base_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Debian bookworm image with python3 and venv, built once per machine (Docker Hub is out of reach)."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: .ci/run installs it with apt-get")
    if podman("image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return BASE_IMAGE
    rootfs = tmp_path_factory.mktemp("rootfs")
    subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), "http://deb.debian.org/debian"],
        check=True,
        capture_output=True,
    )
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["podman", "import", "-", "localhost/mlops-template-debian:bookworm"], stdin=tar.stdout, check=True)
    tar.wait()
    context = tmp_path_factory.mktemp("base")
    (context / "Containerfile").write_text(BASE_CONTAINERFILE)
    podman("build", "--runtime", "runc", "-t", BASE_IMAGE, str(context))
    return BASE_IMAGE


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A level-2 project ("churn service") with a registered champion, trained on a small sample.

    Shared by every test that runs the service (helpers.RunningService); they must not change it.
    """
    project = new_project(tmp_path_factory.mktemp("service"), project_name="churn service", maturity_level="2")
    run(["python", "-m", "churn_service", "generate", "--size", "0.25"], project, activate=True)
    run(["python", "-m", "churn_service", "pipeline"], project, activate=True)
    return project
