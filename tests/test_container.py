"""The generated Dockerfile: hadolint-clean, and an image that really builds, runs and answers.

Docker Hub is out of reach here, so the tests build a local Debian base image with Python
(debootstrap + podman import) and pass it as BASE_IMAGE, as the Dockerfile allows.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import CA_BUNDLE, CHOICES, Bake, free_port, new_project, podman, run, tool

RUN_FLAGS = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


@pytest.mark.parametrize("level", CHOICES["maturity_level"])
@pytest.mark.parametrize("framework", CHOICES["model_framework"])
def test_dockerfile_is_hadolint_clean(bake: Bake, level: str, framework: str) -> None:
    project = bake(maturity_level=level, model_framework=framework)
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "warning", "Dockerfile"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def http(url: str, payload: dict | None = None) -> tuple[int, dict]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_image_builds_runs_and_answers(base_image: str, tmp_path: Path) -> None:
    module = "churn_image"
    project = new_project(tmp_path, project_name="churn image")
    run(["python", "-m", module, "generate", "--size", "0.25"], project, activate=True)
    for stage in ("ingest", "validate", "featurize", "train", "evaluate"):  # evaluate promotes the model
        run(["python", "-m", module, stage], project, activate=True)
    (project / "uv.lock").unlink()  # docker-build writes the lock the image installs from when it is missing
    image = "localhost/churn-image:test"
    flags = f"--runtime runc -v {CA_BUNDLE}:{CA_BUNDLE}:ro"
    run(
        [
            "make",
            "docker-build",
            "CONTAINER=podman",
            f"BASE_IMAGE={base_image}",
            f"IMAGE={image}",
            f"BUILD_FLAGS={flags}",
        ],
        project,
    )
    assert (project / "uv.lock").is_file()

    port = free_port()
    container = podman("run", "-d", "--rm", *RUN_FLAGS, "-p", f"127.0.0.1:{port}:8000", image).stdout.strip()
    try:
        assert podman("inspect", container, "--format", "{{.Config.User}}").stdout.strip() == "10001:10001"
        deadline = time.monotonic() + 90
        while True:
            try:
                status, body = http(f"http://127.0.0.1:{port}/health/ready")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, podman("logs", container, check=False).stderr[-3000:]
            time.sleep(1)
        records = json.loads(run(["python", "-c", PROBE.format(module=module)], project, activate=True).stdout)
        status, body = http(f"http://127.0.0.1:{port}/predict", {"records": records["records"]})
        assert status == 200, body
        served = [prediction["probability"] for prediction in body["predictions"]]
        assert served == pytest.approx(records["expected"], abs=1e-9)
        status, body = http(f"http://127.0.0.1:{port}/predict", {"records": [{**records["records"][0], "age": 7}]})
        assert status == 422
        assert body["detail"][0]["field"] == "records.0.age"
    finally:
        podman("stop", "--time", "5", container, check=False)
        podman("rmi", "--force", image, check=False)  # each run's image would otherwise stay, untagged, on disk


PROBE = """
import json
import pandas as pd
from {module}.models.persistence import load_model
from {module}.schema import FEATURES, ID
holdout = pd.read_parquet("data/processed/holdout.parquet").head(5)
expected = load_model(__import__("pathlib").Path("models/model")).predict_proba(holdout[FEATURES])[:, 1]
print(json.dumps({{"records": holdout[[ID, *FEATURES]].to_dict("records"), "expected": expected.tolist()}}))
"""
