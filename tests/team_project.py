"""A level 3 project as a team has it after its first pipeline run: where the tests that run the
generated CI/CD on this machine start (act for GitHub Actions, gitlab-ci-local for GitLab)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import yaml
from helpers import CA_BUNDLE, bake_project, git, podman, run, setup_project
from registry import Registry


@contextmanager
def first_pipeline_run(
    root: Path, base_image: str, adapt: Callable[[Path], None] = lambda project: None, **answers: str
) -> Iterator[SimpleNamespace]:
    """Bake a level 3 project into root and run it once, as its README says.

    Its data and models are pushed to a DVC remote folder, its champion is registered in a shared
    MLflow store, and a labelled batch with data and concept drift (data/external/batch-1) is
    tracked by DVC for monitoring. `adapt` changes the generated files before anything runs.
    Everything is committed, with uv.lock, which CI installs from. Images go to a local registry;
    the ones pushed there, and the build stages left untagged, are removed afterwards.
    """
    dangling_before = set(podman("images", "--quiet", "--no-trunc", "--filter", "dangling=true").stdout.split())
    with Registry() as registry:
        project = bake_project(
            root, maturity_level="3", container_registry=f"localhost:{registry.port}/mlops", **answers
        )
        adapt(project)
        module = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["module_name"]
        tracking = f"sqlite:///{root / 'mlflow-server' / 'mlflow.db'}"
        (root / "mlflow-server").mkdir()
        setup_project(project)
        shared = {"MLFLOW_TRACKING_URI": tracking}

        def project_run(*command: str) -> None:
            """In the project's environment, activated as its README says."""
            run(list(command), project, activate=True, env=shared)

        project_run("dvc", "remote", "modify", "storage", "url", str(root / "dvc-remote"))
        try:
            project_run("make", "pipeline")
            project_run(
                *("python", "-m", module, "generate", "--size", "0.5", "--seed", "7"),
                *("--age-shift", "12", "--concept-drift", "0.8", "--output", "data/external/batch-1"),
            )
            project_run("dvc", "add", "--quiet", "data/external/batch-1")
            project_run("dvc", "push", "--quiet")
            git(project, "add", "--all")
            git(project, "commit", "--quiet", "-m", "First pipeline run; a labelled batch arrived")
            yield SimpleNamespace(
                project=project,
                registry=registry,
                tracking=tracking,
                variables={
                    "BASE_IMAGE": base_image,
                    "BUILD_FLAGS": f"--runtime runc -v {CA_BUNDLE}:{CA_BUNDLE}:ro",
                    "CONTAINER": "podman",
                },
            )
        finally:
            for image in podman("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split():
                if image.startswith(f"localhost:{registry.port}/"):
                    podman("rmi", "--force", image, check=False)
            # the build stages the jobs' image builds left behind, untagged
            dangling = set(podman("images", "--quiet", "--no-trunc", "--filter", "dangling=true").stdout.split())
            for image in dangling - dangling_before:
                podman("rmi", image, check=False)


def assert_promoted_on_a_branch(origin: Path, registry: Registry, repository: str, decision: dict) -> str:
    """What continuous training leaves when the challenger wins; returns the branch it pushed.

    The decision says retrain and promoted; a `retrain/*` branch of origin records the retraining,
    then moves the staging overlay to the champion's image, tagged with the record's commit and
    pushed to the registry.
    """
    assert decision["retrain"] is True, decision
    assert decision["promoted"] is True, decision
    version = decision["challenger_version"]
    branch = next(ref for ref in git(origin, "branch", "--list", "retrain/*").split() if ref != "*")
    record, promotion = git(origin, "log", "--format=%H %s", "-2", branch).splitlines()[::-1]
    assert record.endswith("Retrained model promoted to champion")
    assert promotion.endswith(f"Deploy model {version} to staging (primary)")
    tag = record.split()[0]
    assert registry.tags(repository) == [tag], "the image of the new champion was pushed"
    overlay = yaml.safe_load(git(origin, "show", f"{branch}:deploy/k8s/overlays/staging/kustomization.yaml"))
    primary = next(image for image in overlay["images"] if image["name"].endswith(f"/{repository}"))
    assert primary["newTag"] == tag
    assert overlay["labels"][0]["pairs"]["model-version"] == version
    changed = git(origin, "diff", "--name-only", "main", branch).splitlines()
    assert "deploy/k8s/overlays/staging/kustomization.yaml" in changed
    assert "reports/retrain_decision.json" in changed
    return branch
