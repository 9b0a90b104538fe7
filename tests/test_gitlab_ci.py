"""The generated GitLab CI/CD (ci_provider=gitlab): validated, checked for supply-chain rules, and run.

Fast: every level's `.gitlab-ci.yml` and its includes pass GitLab's CI schema (check-jsonschema,
offline); images are pinned by digest; jobs choose with `rules:`, never `only`/`except`; credentials
are read from protected variables by the commands that need them and never printed; only the
chosen provider's files exist.
Slow: gitlab-ci-local (tests/gitlab/, shell executor, each job in its own copy of the repository)
runs the CI jobs of a level 3 project as a merge request pipeline, then a scheduled monitoring
pipeline that starts continuous training, then continuous training, which retrains, pushes the
champion's image and pushes a promotion branch with its merge request. GitLab's API is replaced by
the stand-in in tests/gitlab/bin, the container registry by a local one, the GitLab remote by a
bare repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from helpers import CACHE, bake_project, git, podman, python_prefix, run, tool, user_env
from registry import Registry
from team_project import assert_promoted_on_a_branch, first_pipeline_run

GITLAB = Path(__file__).parent / "gitlab"
GITLAB_CI_LOCAL = GITLAB / "node_modules/.bin/gitlab-ci-local"
PROJECT_PYTHON = "3.11"
DIGEST = re.compile(r"^[\w./:-]+@sha256:[0-9a-f]{64}$")
KEYWORDS = {"default", "include", "stages", "variables", "workflow"}

VARIANTS = {
    "level2": {"maturity_level": "2"},
    "level2-pytorch-3.12": {"maturity_level": "2", "model_framework": "pytorch", "python_version": "3.12"},
    "level3": {"maturity_level": "3"},
    "level3-s3-dockerhub": {"maturity_level": "3", "dvc_remote": "s3", "container_registry": "docker.io/acme"},
    "level3-gcs-3.10": {"maturity_level": "3", "dvc_remote": "gcs", "python_version": "3.10"},
    "level3-azure": {"maturity_level": "3", "dvc_remote": "azure"},
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One bake per variant, shared by the fast checks."""
    return {
        name: bake_project(tmp_path_factory.mktemp(name), ci_provider="gitlab", **answers)
        for name, answers in VARIANTS.items()
    }


def ci_files(project: Path) -> list[Path]:
    return [project / ".gitlab-ci.yml", *sorted((project / ".gitlab/ci").glob("*.yml"))]


def jobs(project: Path) -> dict[str, dict[str, Any]]:
    """Every job and hidden job of the pipeline, from all its files."""
    found = {}
    for path in ci_files(project):
        document = yaml.safe_load(path.read_text())
        found.update({name: job for name, job in document.items() if name not in KEYWORDS})
    return found


def script_lines(job: dict[str, Any]) -> list[str]:
    def flatten(lines: Any) -> list[str]:
        if isinstance(lines, str):
            return [lines]
        return [line for item in lines or [] for line in flatten(item)]

    return flatten(job.get("before_script")) + flatten(job.get("script"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_file_matches_gitlabs_ci_schema(projects: dict[str, Path], variant: str) -> None:
    files = ci_files(projects[variant])
    assert len(files) == (1 if VARIANTS[variant]["maturity_level"] == "2" else 4)
    command = [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *map(str, files)]
    result = run(command, projects[variant], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", VARIANTS)
def test_images_are_pinned_by_digest_and_jobs_choose_with_rules(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    image = pipeline["default"]["image"]
    assert DIGEST.match(image), image
    assert image.startswith(f"python:{VARIANTS[variant].get('python_version', '3.11')}-bookworm@")
    for name, job in jobs(project).items():
        assert not {"only", "except"} & set(job), f"{name}: rules, not only/except"
        assert "image" not in job or DIGEST.match(job["image"]), name
        assert "services" not in job, f"{name}: no privileged Docker-in-Docker; images are built with buildah"
        if not name.startswith("."):
            assert "rules" in job or any(parent in jobs(project) for parent in job.get("extends", [])), name


@pytest.mark.parametrize("variant", VARIANTS)
def test_credentials_stay_out_of_the_files_and_the_logs(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    assert not {"PASSWORD", "TOKEN", "SECRET", "KEY"} & {
        word for name in pipeline["variables"] for word in name.split("_")
    }
    for path in ci_files(project):
        text = path.read_text()
        assert "set -x" not in text, path.name
        assert "CI_DEBUG_TRACE" not in text, path.name
    for name, job in jobs(project).items():
        for variable, value in (job.get("variables") or {}).items():
            if re.search(r"PASSWORD|TOKEN|KEY", variable):
                assert value == "$CI_REGISTRY_PASSWORD", f"{name}: only the job's own registry token is mapped"
        for line in script_lines(job):
            if "login" in line:
                assert "--password-stdin" in line, f"{name}: {line}"
            if "GITOPS_TOKEN" in line:
                assert line.lstrip(">- ").startswith('PUSH_TOKEN="$GITOPS_TOKEN" ci/steps.sh publish'), line
            assert not re.search(r"echo .*\$(\{)?(CI_JOB_TOKEN|GITOPS_TOKEN|REGISTRY_PASSWORD)", line), line
    if VARIANTS[variant]["maturity_level"] == "3":
        everything = jobs(project)
        # the training environment's variables (the DVC remote's and the log's) reach two jobs only
        training = {name for name, job in everything.items() if job.get("environment", {}).get("name") == "training"}
        assert training == {"drift", "retrain"}
        assert all(everything[name]["environment"]["action"] == "access" for name in training)
        gitops = {name for name, job in everything.items() if "GITOPS_TOKEN" in json.dumps(job.get("script"))}
        assert gitops == {"staging", "canary", "production", "retrain"}
        remote = VARIANTS[variant].get("dvc_remote", "local")
        lines = script_lines(everything["drift"])
        pull = next(index for index, line in enumerate(lines) if "dvc pull" in line)
        drift = next(index for index, line in enumerate(lines) if line.startswith("make drift"))
        if remote != "local":
            assert any(line.startswith("unset ") for line in lines[pull + 1 : drift]), "credentials end with the pull"


def test_level_2_runs_ci_and_level_3_adds_delivery_training_and_monitoring(projects: dict[str, Path]) -> None:
    level2, level3 = jobs(projects["level2"]), jobs(projects["level3"])
    assert {name for name in level2 if not name.startswith(".")} == {"lint", "test", "pipeline"}
    assert {name for name in level3 if not name.startswith(".")} == {
        "lint",
        "test",
        "pipeline",
        "build-image",
        "staging",
        "canary",
        "production",
        "drift",
        "retrain",
    }
    assert level3["build-image"]["needs"] == ["lint", "test", "pipeline"]
    assert level3[".promotion"]["resource_group"] == "gitops", "one promotion at a time"
    for name, role in (("staging", "primary"), ("canary", "candidate"), ("production", "primary")):
        assert ".promotion" in level3[name]["extends"]
        assert any(
            f"ci/steps.sh promote {level3[name]['environment']['name']}" in line for line in level3[name]["script"]
        )
        assert any(line.endswith(role) for line in level3[name]["script"] if "promote" in line)
    for name in ("canary", "production"):
        assert level3[name]["environment"]["name"] == "production"
        assert level3[name]["rules"][-1]["when"] == "manual"
    assert level3["production"]["needs"] == ["build-image", "canary"]
    assert level3["drift"]["rules"] == [{"if": '$PIPELINE_KIND == "monitor"'}]
    assert level3["retrain"]["rules"] == [{"if": '$PIPELINE_KIND == "ct"'}]
    for name in ("lint", "test", "pipeline"):
        assert level2[name]["extends"][-1] == ".ci"
    assert level2[".ci"]["rules"][0] == {"if": "$PIPELINE_KIND", "when": "never"}


def test_only_the_chosen_providers_files_are_generated(tmp_path: Path) -> None:
    gitlab = bake_project(tmp_path / "gitlab", maturity_level="3", ci_provider="gitlab")
    github = bake_project(tmp_path / "github", maturity_level="3")
    manual = bake_project(tmp_path / "manual", maturity_level="1", ci_provider="gitlab")
    assert not (gitlab / ".github").exists()
    assert not (github / ".gitlab-ci.yml").exists()
    assert not (github / ".gitlab").exists()
    assert not (manual / ".gitlab-ci.yml").exists()
    assert not (manual / "ci").exists()
    answers = json.loads((gitlab / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert answers["ci_provider"] == "gitlab"
    assert answers["container_registry"] == "registry.gitlab.com/jane-doe"
    readme = (gitlab / "README.md").read_text()
    assert "registry.gitlab.com/jane-doe/customer-churn" in readme
    assert ".github/" not in readme
    assert ".gitlab-ci.yml" in readme


class GitlabCiLocal:
    """Runs the project's .gitlab-ci.yml with gitlab-ci-local: shell executor, one job at a time,
    each job in its own copy of the repository (--shell-isolation), artifacts copied back."""

    def __init__(self, project: Path, workdir: Path, registry: Registry) -> None:
        self.project, self.workdir = project, workdir
        self.curl_log = workdir / "curl.jsonl"
        registries = workdir / "registries.conf"
        registries.write_text(f'[[registry]]\nlocation = "localhost:{registry.port}"\ninsecure = true\n')
        env = user_env()
        # the job image's python3.11 and curl: a clean interpreter of this machine, the API stand-in
        python = Path(python_prefix(PROJECT_PYTHON)) / "bin"
        self.env = {
            **env,
            "PATH": os.pathsep.join([str(GITLAB / "bin"), str(python), env["PATH"]]),
            "STANDIN_CURL_LOG": str(self.curl_log),
            "CONTAINERS_REGISTRIES_CONF": str(registries),
            "REGISTRY_AUTH_FILE": str(workdir / "registry-auth.json"),
        }
        self.variables = {
            "UV_CACHE_DIR": env["UV_CACHE_DIR"],
            # the hooks' environments, kept between runs like the uv cache (GitLab caches .cache/pre-commit)
            "PRE_COMMIT_HOME": str(CACHE / "pre-commit"),
            "PUSH_REMOTE": REMOTE,
        }

    def run(self, *jobs: str, manual: tuple[str, ...] = (), **variables: str) -> tuple[int, str]:
        """Run the jobs (all of the pipeline when none), starting these manual ones; the exit code and the log."""
        command = [
            str(GITLAB_CI_LOCAL),
            "--force-shell-executor",
            "--shell-isolation",
            "--concurrency",
            "1",
            "--no-color",
            *(argument for job in manual for argument in ("--manual", job)),
            *jobs,
        ]
        for name, value in {**self.variables, **variables}.items():
            command += ["--variable", f"{name}={value}"]
        result = subprocess.run(command, cwd=self.project, env=self.env, capture_output=True, text=True, check=False)
        return result.returncode, result.stdout + result.stderr

    def curl_calls(self) -> list[list[str]]:
        if not self.curl_log.exists():
            return []
        return [json.loads(line) for line in self.curl_log.read_text().splitlines()]


REMOTE = "https://gitlab.example.com/acme/churn-gl.git"
ON_LEVEL_3 = pytest.mark.xdist_group("gitlab-ci-local")


@pytest.fixture(scope="module")
def level3(tmp_path_factory: pytest.TempPathFactory, base_image: str) -> Iterator[SimpleNamespace]:
    """A level 3 GitLab project after its first pipeline run (team_project).

    Its GitLab remote is a bare repository that records the push options it receives (the merge
    request a push opens); the jobs reach it through the GitLab URL they push to.
    """
    if not GITLAB_CI_LOCAL.exists():
        pytest.fail("gitlab-ci-local is missing: `make setup` installs it with npm (tests/gitlab/package.json)")
    root = tmp_path_factory.mktemp("gitlab")
    with first_pipeline_run(root, base_image, project_name="churn gl", ci_provider="gitlab") as team:
        project, origin = team.project, root / "origin.git"
        git(project, "clone", "--quiet", "--bare", str(project), str(origin))
        git(origin, "config", "receive.advertisePushOptions", "true")
        hook = origin / "hooks/post-receive"
        hook.write_text(
            "#!/bin/sh\n# what a push asked GitLab for (merge_request.create, ...)\n"
            'i=0; while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do\n'
            '  eval "echo \\"\\$GIT_PUSH_OPTION_$i\\"" >> push-options.txt; i=$((i + 1)); done\n'
        )
        hook.chmod(0o755)
        git(project, "config", f"url.{origin}.insteadOf", REMOTE)
        git(project, "remote", "add", "origin", REMOTE)
        git(project, "fetch", "--quiet", "origin")
        git(project, "remote", "set-head", "origin", "main")
        yield SimpleNamespace(
            project=project,
            ci=GitlabCiLocal(project, root, team.registry),
            registry=team.registry,
            origin=origin,
            tracking=team.tracking,
            variables={
                **team.variables,
                "REGISTRY_USERNAME": "gitlab-ci",
                "REGISTRY_PASSWORD": "local-registry-password",
                "GITOPS_TOKEN": "local-gitops-token",
            },
        )


def passed(log: str, *names: str) -> bool:
    return all(re.search(rf"^ PASS +{re.escape(name)} *$", log, re.MULTILINE) for name in names) and " FAIL " not in log


@pytest.mark.slow
@ON_LEVEL_3
def test_merge_request_pipeline_runs_lint_test_and_pipeline_from_the_dvc_cache(level3: SimpleNamespace) -> None:
    """The project's unit and smoke tests stand for `make test` here (the full suite runs in test_workflows)."""
    project, ci = level3.project, level3.ci
    # what the default branch's pipeline left in the shared DVC cache: the fixture's pipeline run
    cache = project / ".gitlab-ci-local/cache/dvc/.dvc/cache"
    shutil.copytree(project / ".dvc/cache", cache)
    before = sum(1 for path in cache.rglob("*") if path.is_file())
    merge_request = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    git(project, "switch", "--quiet", "--create", "faster-learning")
    try:
        params = project / "params.yaml"
        params.write_text(params.read_text().replace("learning_rate: 0.06", "learning_rate: 0.08"))
        git(project, "commit", "--quiet", "--all", "-m", "Faster learning")

        started = time.monotonic()
        code, log = ci.run(
            "lint", "test", "pipeline", PYTEST_ADDOPTS="tests/unit tests/smoke", **merge_request, **level3.variables
        )
        seconds = time.monotonic() - started
        assert code == 0, log[-6000:]
        assert passed(log, "lint", "test", "pipeline"), log[-6000:]
        assert "no data files in git" in log
        assert re.search(r"\d+ passed", log), "make test ran the project's tests"
        assert "Running stage 'ingest'" not in log, "unchanged stages come back from the DVC cache"
        assert "Running stage 'validate'" not in log
        assert "Running stage 'train'" in log
        assert "Running stage 'evaluate'" in log
        assert sum(1 for path in cache.rglob("*") if path.is_file()) > before, "the new model went into the cache"
        assert "### Metrics: origin/main -> this commit" in log
        diff = (project / "reports/metrics_diff.md").read_text()  # the merge request's "metrics diff"
        assert re.search(r"\| reports/metrics.json \| roc_auc +\| 0\.\d+ +\| 0\.\d+ +\| -?0\.\d+", diff), diff
        image = f"localhost:{level3.registry.port}/mlops/churn-gl:{git(project, 'rev-parse', 'HEAD')}"
        assert podman("image", "exists", image, check=False).returncode == 0, "CI builds the image"
        print(f"gitlab-ci-local merge request pipeline (lint, test, pipeline): {seconds:.0f} s")
    finally:
        git(project, "switch", "--quiet", "main")


@pytest.mark.slow
@ON_LEVEL_3
def test_monitoring_triggers_training_and_training_pushes_a_promotion_merge_request(level3: SimpleNamespace) -> None:
    project, ci = level3.project, level3.ci
    batch = {"CURRENT_RAW": "data/external/batch-1"}

    started = time.monotonic()
    code, log = ci.run(PIPELINE_KIND="monitor", MLFLOW_TRACKING_URI=level3.tracking, **batch, **level3.variables)
    monitor = time.monotonic() - started
    assert code == 0, log[-6000:]
    assert passed(log, "drift"), log[-6000:]
    assert re.findall(r"^ PASS +(\S+) *$", log, re.MULTILINE) == ["drift"], "a monitoring pipeline runs its job only"
    assert json.loads((project / "reports/drift.json").read_text())["drifted"] is True
    assert "degraded" in json.loads((project / "reports/feedback.json").read_text())
    trigger = next(call for call in ci.curl_calls() if call[-1].endswith("/trigger/pipeline"))
    form = dict(trigger[index + 1].split("=", 1) for index, arg in enumerate(trigger) if arg == "--form")
    assert form["ref"] == "main"
    assert form["variables[PIPELINE_KIND]"] == "ct"
    assert form["variables[CURRENT_RAW]"] == "data/external/batch-1"

    code, refused = ci.run(PIPELINE_KIND="ct", **batch, **level3.variables)
    assert code != 0
    assert "set the CI/CD variable MLFLOW_TRACKING_URI" in refused

    started = time.monotonic()
    triggered = {name[len("variables[") : -1]: value for name, value in form.items() if name.startswith("variables[")}
    code, log = ci.run(MLFLOW_TRACKING_URI=level3.tracking, **triggered, **level3.variables)
    training = time.monotonic() - started
    assert code == 0, log[-8000:]
    assert passed(log, "retrain"), log[-8000:]
    assert "local-gitops-token" not in log
    assert "local-registry-password" not in log
    decision = json.loads((project / "reports/retrain_decision.json").read_text())
    assert_promoted_on_a_branch(level3.origin, level3.registry, "mlops/churn-gl", decision)
    version = decision["challenger_version"]
    options = (level3.origin / "push-options.txt").read_text().splitlines()
    assert options[:2] == ["merge_request.create", "merge_request.target=main"]
    assert f"merge_request.title=Deploy retrained model {version} to staging" in options
    print(
        f"gitlab-ci-local monitoring: {monitor:.0f} s, continuous training with retraining and image: {training:.0f} s"
    )


@pytest.mark.slow
@ON_LEVEL_3
def test_the_default_branch_delivers_its_image_to_staging_then_a_canary_then_production(
    level3: SimpleNamespace,
) -> None:
    """build-image pushes the commit's image; staging follows it; canary and production are started by hand."""
    project, ci, origin = level3.project, level3.ci, level3.origin
    commit = git(project, "rev-parse", "HEAD")
    tip = git(origin, "rev-parse", "main")
    started = time.monotonic()
    code, log = ci.run(
        "build-image", "staging", "canary", "production", manual=("canary", "production"), **level3.variables
    )
    seconds = time.monotonic() - started
    assert code == 0, log[-8000:]
    assert passed(log, "build-image", "staging", "canary", "production"), log[-8000:]
    assert "local-gitops-token" not in log
    assert "local-registry-password" not in log
    assert commit in level3.registry.tags("mlops/churn-gl"), "build-image pushed the commit's image"
    deployments = git(origin, "log", "--format=%s", f"{tip}..main").splitlines()[::-1]
    found = re.fullmatch(r"Deploy model (\S+) to staging \(primary\)", deployments[0] if deployments else "")
    assert found, deployments
    version = found.group(1)
    assert deployments == [
        f"Deploy model {version} to staging (primary)",
        f"Deploy model {version} to production (candidate)",
        f"Deploy model {version} to production (primary)",
    ], deployments
    image = f"localhost:{level3.registry.port}/mlops/churn-gl"
    staging = yaml.safe_load(git(origin, "show", "main:deploy/k8s/overlays/staging/kustomization.yaml"))
    assert next(entry for entry in staging["images"] if entry["name"].endswith("/churn-gl"))["newTag"] == commit
    production = yaml.safe_load(git(origin, "show", "main:deploy/k8s/overlays/production/kustomization.yaml"))
    tags = {entry["name"]: entry.get("newTag") for entry in production["images"]}
    assert set(tags.values()) == {commit}, production["images"]
    assert production["labels"][0]["pairs"] == {"model-version": version, "candidate-model-version": version}
    print(f"gitlab-ci-local delivery (image, staging, canary, production) of {image}:{commit}: {seconds:.0f} s")
