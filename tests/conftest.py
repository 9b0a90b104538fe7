"""Fixtures for the template tests."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from _pytest.nodeid import coerce_node_id
from helpers import BASE_IMAGE, Bake, bake_project, new_project, podman, run

# `make test` runs on every core (pytest-xdist, --dist loadgroup): the longest modules start first,
# so that the run does not end waiting on one of them
LONGEST_FIRST = ("test_workflows.py", "test_upgrade.py", "test_generated_project.py", "test_adopt.py")

BASE_CONTAINERFILE = """FROM localhost/mlops-template-debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \\
    && ln -s /usr/bin/python3 /usr/local/bin/python && rm -rf /var/lib/apt/lists/*
"""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: pytest's order within a module (grouped by fixture parameter) stays
    if getattr(config.option, "loadgroup", False):
        for item in items:
            name_group(item)


def name_group(item: pytest.Item) -> None:
    """Append the item's xdist group to its node id, which is how loadgroup keeps a group on one worker.

    pytest-xdist 3.8 writes the suffix into `_nodeid`, which pytest 9 no longer reads (it keeps `_id`),
    so without this every test would be scheduled alone and each worker would set up every project.
    """
    groups = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
    if groups and "@" not in item.nodeid.rpartition("]")[2].rpartition("::")[2]:
        item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], str]) -> str:
    """What `build` returns, built by the first test worker that asks; the others wait for it and reuse it.

    With pytest-xdist each worker has its own base temp folder inside one shared parent.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    done = shared / f"{name}.built"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            folder = shared / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done.write_text(build(folder))
        return done.read_text()


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
    return once_per_run(tmp_path_factory, "base-image", build_base_image)


def build_base_image(folder: Path) -> str:
    if podman("image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return BASE_IMAGE
    rootfs = folder / "rootfs"
    subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), "http://deb.debian.org/debian"],
        check=True,
        capture_output=True,
    )
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["podman", "import", "-", "localhost/mlops-template-debian:bookworm"], stdin=tar.stdout, check=True)
    tar.wait()
    context = folder / "context"
    context.mkdir()
    (context / "Containerfile").write_text(BASE_CONTAINERFILE)
    podman("build", "--runtime", "runc", "-t", BASE_IMAGE, str(context))
    return BASE_IMAGE


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A level-2 project ("churn service") with a registered champion, trained on a small sample.

    Shared by every test that runs the service (helpers.RunningService), in every worker; they must not change it.
    """
    return Path(once_per_run(tmp_path_factory, "service", train_service_project))


def train_service_project(folder: Path) -> str:
    project = new_project(folder, project_name="churn service", maturity_level="2")
    run(["python", "-m", "churn_service", "generate", "--size", "0.25"], project, activate=True)
    run(["python", "-m", "churn_service", "pipeline"], project, activate=True)
    return str(project)
