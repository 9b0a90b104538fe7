"""The generated GitHub Actions workflows and pre-commit hooks: linted, validated, and run.

Fast: every workflow and local action of each kind of project passes actionlint, zizmor (offline,
auditor persona, no findings and nothing suppressed) and GitHub's JSON schemas, and keeps the rules
the linters leave to us: actions pinned to a commit with its version, no expression inside a `run:`,
no persisted checkout credentials, write permissions only on the jobs that need them.
Slow: pre-commit runs clean on a fresh project and catches data and notebook outputs; act runs
the CI jobs, then the monitoring workflow and continuous training, on a level 3 project. Remote
actions are replaced by the local stand-ins in tests/act/, the container registry by a local one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from helpers import (
    bake_project,
    git,
    podman,
    python_prefix,
    run,
    setup_project,
    tool,
    user_env,
)
from registry import Registry
from team_project import assert_promoted_on_a_branch, first_pipeline_run

STANDINS = Path(__file__).parent / "act"
PROJECT_PYTHON = "3.11"  # the default answer, the version of the act projects
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"uses: \S+ # v\d+\.\d+\.\d+$")

VARIANTS = {
    "level1": {"maturity_level": "1"},
    "level2-sklearn": {"maturity_level": "2"},
    "level2-pytorch": {"maturity_level": "2", "model_framework": "pytorch"},
    "level3-sklearn": {"maturity_level": "3"},
    "level3-pytorch-s3-dockerhub": {
        "maturity_level": "3",
        "model_framework": "pytorch",
        "dvc_remote": "s3",
        "container_registry": "docker.io/acme",
    },
    "level3-gcs": {"maturity_level": "3", "dvc_remote": "gcs"},
    "level3-azure-own-registry": {
        "maturity_level": "3",
        "dvc_remote": "azure",
        "container_registry": "registry.example.com:5000/ml",
    },
}
AUTOMATED = [name for name, answers in VARIANTS.items() if answers["maturity_level"] != "1"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One bake per variant, shared by the fast checks."""
    baked = {}
    for name, answers in VARIANTS.items():
        output = tmp_path_factory.mktemp(name)
        baked[name] = bake_project(output, **answers)
    return baked


def workflow_files(project: Path) -> list[Path]:
    return sorted((project / ".github/workflows").glob("*.yml"))


def action_files(project: Path) -> list[Path]:
    return sorted((project / ".github/actions").glob("*/action.yml"))


def steps_of(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in document:
        yield from document["runs"].get("steps", [])
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])


def triggers(workflow: Path) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True
    return yaml.safe_load(workflow.read_text())[True]


@pytest.mark.parametrize("variant", AUTOMATED)
def test_workflows_pass_actionlint(projects: dict[str, Path], variant: str) -> None:
    result = run([tool("actionlint"), "-no-color"], projects[variant], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", AUTOMATED)
def test_zizmor_finds_nothing_even_as_an_auditor(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    result = run([tool("zizmor"), "--offline", "--persona", "auditor", "--no-progress", "."], project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
    assert "suppressed" not in result.stdout
    audited = [*workflow_files(project), *action_files(project), project / ".pre-commit-config.yaml"]
    for path in audited:
        assert f"completed ./{path.relative_to(project)}" in result.stderr, f"zizmor did not audit {path}"
    assert not list(project.rglob("zizmor.y*ml")), "findings are fixed, never configured away"
    assert not [path for path in audited if "zizmor:" in path.read_text()], "no inline ignores"


@pytest.mark.parametrize("variant", AUTOMATED)
def test_workflows_and_actions_match_githubs_schemas(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    for schema, files in (
        ("vendor.github-workflows", workflow_files(project)),
        ("vendor.github-actions", action_files(project)),
    ):
        result = run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)], project, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", AUTOMATED)
def test_remote_actions_are_pinned_to_one_commit_each_with_its_version(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    commits: dict[str, set[str]] = {}
    for path in [*workflow_files(project), *action_files(project)]:
        document = yaml.safe_load(path.read_text())
        uses = [step["uses"] for step in steps_of(document) if "uses" in step]
        uses += [job["uses"] for job in document.get("jobs", {}).values() if "uses" in job]
        for reference in uses:
            if reference.startswith("$/"):  # this repository, at the running commit
                assert (project / reference[2:]).exists(), f"{path.name}: {reference} does not exist"
                continue
            pinned = PINNED.match(reference)
            assert pinned, f"{path.name}: {reference} is not pinned to a full commit SHA"
            commits.setdefault(pinned["action"].split("/")[0] + "/" + pinned["action"].split("/")[1], set()).add(
                pinned["sha"]
            )
        for line in path.read_text().splitlines():
            if re.search(r"uses: [\w.-]+/[\w.-]+.*@", line):
                assert VERSION_COMMENT.search(line), f"{path.name}: no '# vX.Y.Z' after: {line.strip()}"
    assert "actions/checkout" in commits
    assert all(len(shas) == 1 for shas in commits.values()), f"one commit per action: {commits}"


@pytest.mark.parametrize("variant", AUTOMATED)
def test_run_steps_hold_no_expressions_and_checkouts_keep_no_credentials(
    projects: dict[str, Path], variant: str
) -> None:
    project = projects[variant]
    for path in [*workflow_files(project), *action_files(project)]:
        for step in steps_of(yaml.safe_load(path.read_text())):
            assert "${{" not in step.get("run", ""), f"{path.name}: pass values to `run` through env: {step}"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {step}"


@pytest.mark.parametrize("variant", AUTOMATED)
def test_permissions_are_read_only_unless_a_job_needs_more(projects: dict[str, Path], variant: str) -> None:
    writers = {}
    for path in workflow_files(projects[variant]):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {"contents": "read"}, path.name
        assert not {"pull_request_target", "workflow_run"} & set(triggers(path)), path.name
        assert workflow["concurrency"]["group"].startswith(path.stem + "-"), path.name
        for name, job in workflow["jobs"].items():
            scopes = job.get("permissions", {})  # none: the workflow's read-only default
            writers.update({f"{path.stem}/{name}/{scope}": level for scope, level in scopes.items() if level != "read"})
    expected = {
        "cd/staging/contents",
        "cd/canary/contents",
        "cd/production/contents",
        "ct/retrain/contents",
        "ct/retrain/pull-requests",
        "monitor/drift/actions",
    }
    if VARIANTS[variant]["maturity_level"] == "2":
        expected = set()
    elif VARIANTS[variant].get("container_registry", "ghcr.io/").startswith("ghcr.io/"):
        expected |= {"cd/image/packages", "ct/retrain/packages"}
    assert set(writers) == expected
    assert set(writers.values()) == ({"write"} if expected else set())


def test_level_2_runs_ci_and_level_3_adds_delivery_training_and_monitoring(projects: dict[str, Path]) -> None:
    assert not (projects["level1"] / ".github").exists()
    assert not (projects["level1"] / ".pre-commit-config.yaml").exists()

    level2, level3 = projects["level2-sklearn"], projects["level3-sklearn"]
    assert [path.name for path in workflow_files(level2)] == ["ci.yml"]
    assert [path.parent.name for path in action_files(level2)] == ["setup"]
    assert set(triggers(level2 / ".github/workflows/ci.yml")) == {"push", "pull_request", "workflow_dispatch"}

    assert [path.name for path in workflow_files(level3)] == ["cd.yml", "ci.yml", "ct.yml", "monitor.yml"]
    assert [path.parent.name for path in action_files(level3)] == ["promote", "setup"]
    ci = triggers(level3 / ".github/workflows/ci.yml")
    assert ci["push"] == {"branches-ignore": ["main"]}, "main runs CI as the first stage of CD"
    assert "workflow_call" in ci
    cd = yaml.safe_load((level3 / ".github/workflows/cd.yml").read_text())
    assert cd["jobs"]["ci"]["uses"] == "$/.github/workflows/ci.yml"
    assert cd["jobs"]["image"]["needs"] == "ci"
    assert [cd["jobs"][job].get("environment") for job in ("staging", "canary", "production")] == [
        "staging",
        "production",
        "production",
    ]
    assert set(triggers(level3 / ".github/workflows/ct.yml")) == {
        "schedule",
        "workflow_dispatch",
        "repository_dispatch",
    }
    assert set(triggers(level3 / ".github/workflows/monitor.yml")) == {"schedule", "workflow_dispatch"}

    for job in yaml.safe_load((level2 / ".github/workflows/ci.yml").read_text())["jobs"].values():
        assert job["steps"][1]["uses"] == "$/.github/actions/setup", "every job sets up through the one action"


def test_ci_installs_the_lock_and_pytorch_projects_take_cpu_wheels(projects: dict[str, Path]) -> None:
    action = yaml.safe_load((projects["level2-sklearn"] / ".github/actions/setup/action.yml").read_text())
    install = next(step for step in action["runs"]["steps"] if step.get("name") == "Install the project from uv.lock")
    assert 'make setup PYTHON="$PYTHON" SYNC_FLAGS=--frozen' in install["run"]

    def uv_settings(variant: str) -> dict[str, Any]:
        return tomllib.loads((projects[variant] / "pyproject.toml").read_text()).get("tool", {}).get("uv", {})

    pytorch = uv_settings("level2-pytorch")
    assert pytorch["index"] == [
        {"name": "pytorch-cpu", "url": "https://download.pytorch.org/whl/cpu", "explicit": True}
    ]
    assert pytorch["sources"] == {"torch": {"index": "pytorch-cpu"}}
    assert uv_settings("level2-sklearn") == {}


def test_remote_credentials_follow_the_answers(projects: dict[str, Path]) -> None:
    def job(variant: str, workflow: str, name: str) -> dict[str, Any]:
        return yaml.safe_load((projects[variant] / ".github/workflows" / workflow).read_text())["jobs"][name]

    def pull_env(variant: str, workflow: str, name: str) -> dict[str, str]:
        return next(step for step in job(variant, workflow, name)["steps"] if "dvc pull" in step.get("run", "")).get(
            "env", {}
        )

    s3 = job("level3-pytorch-s3-dockerhub", "ct.yml", "retrain")
    assert s3["environment"] == "training"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(
        pull_env("level3-pytorch-s3-dockerhub", "ct.yml", "retrain")
    )
    assert "AZURE_STORAGE_CONNECTION_STRING" in pull_env("level3-azure-own-registry", "monitor.yml", "drift")
    assert pull_env("level3-gcs", "ct.yml", "retrain") == {"GCS_KEY": "${{ secrets.GCS_SERVICE_ACCOUNT_KEY }}"}
    assert pull_env("level3-sklearn", "ct.yml", "retrain") == {}
    for workflow, name in (("ct.yml", "retrain"), ("monitor.yml", "drift")):  # the prediction log's URL is a secret
        assert job("level3-sklearn", workflow, name)["environment"] == "training"
        drift = next(
            step for step in job("level3-sklearn", workflow, name)["steps"] if "make drift" in step.get("run", "")
        )
        assert drift["env"] == {"PREDICTION_LOG": "${{ secrets.PREDICTION_LOG }}"}
    assert job("level3-azure-own-registry", "cd.yml", "image")["environment"] == "registry"
    assert "environment" not in job("level3-sklearn", "cd.yml", "image"), "ghcr.io takes the workflow token"


CREDENTIALS = re.compile(r"secrets\.|github\.token|^(AWS|AZURE|GOOGLE|GCS|REGISTRY)_")


PREDICTION_LOG_URL = "PREDICTION_LOG: ${{ secrets.PREDICTION_LOG }}"


def credentials_in(env: dict[str, Any] | None) -> list[str]:
    return [
        f"{name}: {value}"
        for name, value in (env or {}).items()
        if CREDENTIALS.search(f"{name}") or CREDENTIALS.search(f"{value}")
    ]


@pytest.mark.parametrize("variant", AUTOMATED)
def test_secrets_reach_only_the_steps_that_use_them(projects: dict[str, Path], variant: str) -> None:
    """No workflow or job holds a credential in its env (every step, package installs included, would see it)."""
    project = projects[variant]
    for path in [*workflow_files(project), *action_files(project)]:
        document = yaml.safe_load(path.read_text())
        assert credentials_in(document.get("env")) == [], path.name
        for name, job in document.get("jobs", {}).items():
            assert credentials_in(job.get("env")) == [], f"{path.name} job {name}: scope credentials to steps"
        for step in steps_of(document):
            credentials = credentials_in(step.get("env"))
            if credentials == [PREDICTION_LOG_URL]:  # the log's URL reaches the one step that reads the log
                assert step["run"].startswith("make drift"), f"{path.name}: {step['name']}"
            elif credentials:
                assert "run" in step, f"{path.name}: {step}"
                assert re.search(r"dvc pull|login|\bgh ", step["run"]), f"{path.name}: {step['name']}"
                assert "make " not in step["run"], f"{path.name}: {step['name']} runs the project's code with them"
            assert "secrets." not in json.dumps(step.get("with", {})), f"{path.name}: {step}"


@pytest.mark.parametrize("variant", ["level2-sklearn", "level3-pytorch-s3-dockerhub"])
def test_pre_commit_hooks_are_local_and_pinned(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    result = run([tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"], project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    for required in ("ruff", "ruff-format", "check-yaml", "check-toml", "end-of-file-fixer", "trailing-whitespace"):
        assert required in hooks
    assert {"check-added-large-files", "data-in-dvc", "nbstripout"} <= set(hooks)
    for hook in hooks.values():
        if hook["language"] == "python":
            assert hook["additional_dependencies"], hook["id"]
            assert all(re.fullmatch(r"[\w-]+==[\d.]+", dep) for dep in hook["additional_dependencies"]), hook["id"]
    dev = " ".join(tomllib.loads((project / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"])
    assert "pre-commit>=" in dev
    assert "pre-commit install" in (project / "README.md").read_text()


# --- slow: pre-commit and act really run ---------------------------------------------------------------------------


@pytest.mark.slow
def test_pre_commit_passes_on_a_fresh_project_and_stops_data_and_notebook_outputs(tmp_path: Path) -> None:
    project = setup_project(bake_project(tmp_path, maturity_level="2"))
    git(project, "add", "uv.lock")
    git(project, "commit", "--quiet", "-m", "Lock the environment")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return run(["pre-commit", *args], project, check=False, activate=True, env=env)

    clean = pre_commit("run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert git(project, "status", "--porcelain") == "", "the hooks changed a freshly generated file"

    (project / "data/raw/customers.csv").write_text("customer_id,age\n1,40\n")
    git(project, "add", "--force", "data/raw/customers.csv")
    data = pre_commit("run", "--files", "data/raw/customers.csv")
    assert data.returncode == 1
    assert "data files belong in DVC" in data.stdout

    notebook = project / "notebooks/01-jd-explore.ipynb"
    cell = {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": ["1 + 1"]}
    cell["outputs"] = [
        {"output_type": "execute_result", "execution_count": 3, "metadata": {}, "data": {"text/plain": ["2"]}}
    ]
    notebook.write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"
    )
    git(project, "add", str(notebook))
    stripped = pre_commit("run", "--files", str(notebook))
    assert stripped.returncode == 1, "a hook that rewrites a file fails the commit"
    assert json.loads(notebook.read_text())["cells"][0]["outputs"] == []


class Act:
    """Runs one workflow of a project with act on this machine, the remote actions replaced by stand-ins."""

    def __init__(self, project: Path, workdir: Path, registry: Registry) -> None:
        self.project, self.workdir, self.registry = project, workdir, registry
        self.gh_log = workdir / "gh.jsonl"
        self.artifacts = workdir / "artifacts"
        registries = workdir / "registries.conf"
        registries.write_text(f'[[registry]]\nlocation = "localhost:{registry.port}"\ninsecure = true\n')
        env = user_env()
        self.env = {
            **env,
            "PATH": f"{STANDINS / 'bin'}{os.pathsep}{env['PATH']}",
            # a clean interpreter of the project's version: the setup action makes .venv from uv.lock with it
            "STANDIN_PYTHON_PREFIX": python_prefix(PROJECT_PYTHON),
            "STANDIN_CACHE_DIR": str(workdir / "actions-cache"),
            "STANDIN_ARTIFACT_DIR": str(self.artifacts),
            "STANDIN_GH_LOG": str(self.gh_log),
            "PRE_COMMIT_HOME": str(workdir / "pre-commit-home"),
            "CONTAINERS_REGISTRIES_CONF": str(registries),
            "REGISTRY_AUTH_FILE": str(workdir / "registry-auth.json"),
        }

    def run(
        self, event: str, workflow: str, payload: dict[str, Any], *, job: str | None = None, **variables: str
    ) -> str:
        """Run the workflow; return act's log. act exits non-zero when any job fails."""
        event_file = self.workdir / f"{event}.json"
        event_file.write_text(json.dumps(payload))
        command = [
            tool("act"),
            event,
            "--workflows",
            f".github/workflows/{workflow}",
            "--eventpath",
            str(event_file),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--no-cache-server",
            "--concurrent-jobs",
            "1",  # one job at a time on the two cores
            "--action-cache-path",
            str(self.workdir / "act"),
            "--secret",
            "GITHUB_TOKEN=act-token",
            "--secret",
            "REGISTRY_PASSWORD=act-registry-password",
        ]
        for action, sha, folder in (
            ("actions/setup-python", "a26af69be951a213d495a4c3e4e4022e16d87065", "setup-python"),
            ("actions/cache", "5a3ec84eff668545956fd18022155c47e93e2684", "cache"),
            ("actions/upload-artifact", "ea165f8d65b6e75b540449e92b4886f43607fa02", "upload-artifact"),
        ):
            command += ["--local-repository", f"{action}@{sha}={STANDINS / folder}"]
        for name, value in variables.items():
            command += ["--var", f"{name}={value}"]
        if job:
            command += ["--job", job]
        result = subprocess.run(command, cwd=self.project, env=self.env, capture_output=True, text=True, check=False)
        return result.stdout + result.stderr

    def gh_calls(self) -> list[list[str]]:
        if not self.gh_log.exists():
            return []
        return [json.loads(line) for line in self.gh_log.read_text().splitlines()]


def succeeded(log: str, jobs: int) -> bool:
    return log.count("🏁  Job succeeded") == jobs and "Job failed" not in log


ON_LEVEL_3 = pytest.mark.xdist_group("act")  # its tests run in one xdist worker, so the set-up is done once


def self_references_for_act(project: Path) -> None:
    """act does not know the self-repository syntax; after a checkout `./` names the same files."""
    rewritten = 0
    for path in [*workflow_files(project), *action_files(project)]:
        text = path.read_text()
        rewritten += text.count("uses: $/")
        path.write_text(text.replace("uses: $/", "uses: ./"))
    assert rewritten >= 10


@pytest.fixture(scope="module")
def level3(tmp_path_factory: pytest.TempPathFactory, base_image: str) -> Iterator[SimpleNamespace]:
    """A level 3 project after its first pipeline run (team_project), with an `origin` to push to."""
    root = tmp_path_factory.mktemp("act")
    with first_pipeline_run(root, base_image, self_references_for_act, project_name="churn act") as team:
        project = team.project
        git(project, "clone", "--quiet", "--bare", str(project), str(root / "origin.git"))
        git(project, "remote", "add", "origin", str(root / "origin.git"))
        git(project, "fetch", "--quiet", "origin")
        yield SimpleNamespace(
            project=project,
            act=Act(project, root, team.registry),
            registry=team.registry,
            origin=root / "origin.git",
            tracking=team.tracking,
            variables={**team.variables, "REGISTRY_USERNAME": "act"},
        )


@pytest.mark.slow
@ON_LEVEL_3
def test_ci_jobs_succeed_under_act_and_reuse_the_dvc_cache(level3: SimpleNamespace) -> None:
    project, act = level3.project, level3.act
    pull_request = {"pull_request": {"number": 7, "head": {"ref": "faster-learning"}, "base": {"ref": "main"}}}
    git(project, "switch", "--quiet", "--create", "faster-learning")
    try:
        params = project / "params.yaml"
        params.write_text(params.read_text().replace("learning_rate: 0.06", "learning_rate: 0.08"))
        git(project, "commit", "--quiet", "--all", "-m", "Faster learning")

        started = time.monotonic()
        log = act.run("pull_request", "ci.yml", pull_request, **level3.variables)
        first = time.monotonic() - started
        assert succeeded(log, jobs=3), log[-6000:]
        assert "no data files in git" in log
        assert "Passed" in log
        assert re.search(r"\d+ passed", log), "make test ran the project's tests"
        assert "### Metrics: origin/main -> this commit" in log
        assert re.search(r"\| reports/metrics.json \| roc_auc +\| 0\.\d+ +\| 0\.\d+ +\| -?0\.\d+", log), "metrics diff"
        assert "saved cache dvc-" in log
        image = f"localhost:{level3.registry.port}/mlops/churn-act:{git(project, 'rev-parse', 'HEAD')}"
        assert podman("image", "exists", image, check=False).returncode == 0, "CI builds the image"

        params.write_text(params.read_text().replace("learning_rate: 0.08", "learning_rate: 0.09"))
        git(project, "commit", "--quiet", "--all", "-m", "Even faster learning")
        started = time.monotonic()
        log = act.run("pull_request", "ci.yml", pull_request, job="pipeline", **level3.variables)
        second = time.monotonic() - started
        assert succeeded(log, jobs=1), log[-6000:]
        assert "restored cache dvc-" in log, "the next run starts from the last run's DVC cache"
        assert "Running stage 'ingest'" not in log
        assert "Running stage 'validate'" not in log
        assert "Running stage 'train'" in log
        assert "Running stage 'evaluate'" in log
        print(f"act CI: all jobs {first:.0f} s, pipeline job with a warm DVC cache {second:.0f} s")
    finally:
        git(project, "switch", "--quiet", "main")


@pytest.mark.slow
@ON_LEVEL_3
def test_monitoring_starts_training_and_training_opens_a_promotion_pull_request(level3: SimpleNamespace) -> None:
    act = level3.act
    batch = {"inputs": {"current-raw": "data/external/batch-1"}}

    started = time.monotonic()
    log = act.run("workflow_dispatch", "monitor.yml", batch, MLFLOW_TRACKING_URI=level3.tracking, **level3.variables)
    monitor = time.monotonic() - started
    assert succeeded(log, jobs=1), log[-6000:]
    reports = act.artifacts / "monitoring-reports/reports"
    assert json.loads((reports / "drift.json").read_text())["drifted"] is True
    assert (reports / "drift.html").stat().st_size > 0
    assert "degraded" in json.loads((reports / "feedback.json").read_text())
    dispatch = next(call for call in act.gh_calls() if call[:3] == ["workflow", "run", "ct.yml"])
    assert dispatch[dispatch.index("--ref") + 1] == "main"
    assert dispatch[dispatch.index("-f") + 1] == "current-raw=data/external/batch-1"

    refused = act.run("workflow_dispatch", "ct.yml", batch, **level3.variables)
    assert "set the repository variable MLFLOW_TRACKING_URI" in refused
    assert "Job failed" in refused

    started = time.monotonic()
    log = act.run("workflow_dispatch", "ct.yml", batch, MLFLOW_TRACKING_URI=level3.tracking, **level3.variables)
    training = time.monotonic() - started
    assert succeeded(log, jobs=1), log[-8000:]
    decision = json.loads((act.artifacts / "retraining-reports/reports/retrain_decision.json").read_text())
    branch = assert_promoted_on_a_branch(level3.origin, level3.registry, "mlops/churn-act", decision)
    pr = next(call for call in act.gh_calls() if call[:2] == ["pr", "create"])
    assert pr[pr.index("--base") + 1] == "main"
    assert pr[pr.index("--head") + 1] == branch
    print(f"act monitor: {monitor:.0f} s, act CT with retraining and image: {training:.0f} s")
    shutil.rmtree(act.artifacts)
