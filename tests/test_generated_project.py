"""Each level x framework, on every offered Python version: the generated project's own tests and
pipeline pass on its sample data.

These run the real thing, the way a user does: a freshly generated project gets its own `.venv`
from its own `make setup` (uv, writing uv.lock), in an environment with nothing of this test
run in it; then `make test` and `make pipeline`: DVC with a local remote, MLflow with its SQLite store.
Each level x framework is one project shared by a test per phase (run in order), so a failure names its phase.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import CHOICES, CONTEXT, assert_gate_met, new_project, one_worker_each, registered_versions, run
from postgres_server import PostgresServer

pytestmark = pytest.mark.slow

COMBOS = [(level, framework) for level in CHOICES["maturity_level"] for framework in CHOICES["model_framework"]]
# the default version runs the other projects; the other offered versions run scikit-learn projects (only
# cp311 PyTorch wheels exist on the test machines): the oldest at level 3, which has the most modules
DEFAULT_PYTHON = CONTEXT["python_version"][0]
OTHER_PYTHONS = sorted(
    (version for version in CHOICES["python_version"] if version != DEFAULT_PYTHON),
    key=lambda version: tuple(map(int, version.split("."))),
)
PYTHONS = {("3", "sklearn"): OTHER_PYTHONS[0], ("2", "sklearn"): OTHER_PYTHONS[-1]}
# set up with the `spark` extra as well, so that its own tests score a batch on Spark (level 3 offers it)
WITH_SPARK = {("3", "sklearn")}


def corrupt_one_age(project: Path) -> None:
    customers = project / "data/raw/customers.csv"
    header, first, *rest = customers.read_text().splitlines()
    row = first.split(",")
    row[header.split(",").index("age")] = "250"
    customers.write_text("\n".join([header, ",".join(row), *rest]) + "\n")


@pytest.fixture(
    scope="module", params=one_worker_each("generated", COMBOS, lambda combo: f"level{combo[0]}-{combo[1]}")
)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project per level x framework, set up once; the tests below are its phases, in order."""
    level, framework = request.param
    name = f"churn l{level} {framework}"
    output = tmp_path_factory.mktemp(f"level{level}-{framework}")
    extras = ("spark",) if (level, framework) in WITH_SPARK else ()
    python = PYTHONS.get((level, framework), DEFAULT_PYTHON)
    return new_project(
        output, extras, project_name=name, maturity_level=level, model_framework=framework, python_version=python
    )


def project_python(project: Path) -> str:
    """The Python version the project was generated for (the Makefile's default interpreter)."""
    found = re.search(r"^PYTHON \?= python(\S+)$", (project / "Makefile").read_text(), re.MULTILINE)
    assert found, "the Makefile names no default Python"
    return found.group(1)


@pytest.fixture(scope="module")
def metrics(project: Path) -> dict:
    """`make pipeline`, once per project: the metrics it wrote."""
    run(["make", "pipeline"], project)
    return json.loads((project / "reports/metrics.json").read_text())


def needs_dvc(project: Path) -> None:
    if not (project / "dvc.yaml").exists():
        pytest.skip("a level-1 project has no DVC pipeline")


def test_setup_writes_the_lock_with_the_projects_python(project: Path) -> None:
    assert (project / "uv.lock").is_file(), "make setup resolves once and writes the lock"
    version = run([str(project / ".venv/bin/python"), "-c", "import sys; print(sys.version)"], project).stdout
    assert version.startswith(project_python(project) + ".")


def test_lint_passes(project: Path) -> None:
    run(["make", "lint"], project)


def test_own_tests_pass(project: Path) -> None:
    if not list(project.glob("src/*/prediction_log/postgres.py")):
        result = run(["make", "test"], project)
    else:  # the prediction log's store tests run on PostgreSQL too
        with PostgresServer() as server:
            result = run(["make", "test"], project, env={"TEST_POSTGRESQL_URL": server.url})
        assert "no PostgreSQL" not in result.stdout, result.stdout[-2000:]
    if list(project.glob("src/*/batch/spark.py")):
        spark_installed = (project / ".venv/bin/pyspark").exists()
        assert ("Spark is not installed" in result.stdout) is not spark_installed, result.stdout[-2000:]


def test_pipeline_meets_the_gate(project: Path, metrics: dict) -> None:
    assert assert_gate_met(project) == metrics
    assert json.loads((project / "models/training.json").read_text())["python"].startswith(
        project_python(project) + "."
    )
    assert metrics["roc_auc"] > 0.8
    assert (project / "reports/validation.md").read_text().count("passed") == 5
    if (project / "dvc.yaml").exists():
        assert registered_versions(project) == 1


def test_docs_show_the_pipeline_results(project: Path, metrics: dict) -> None:
    run(["make", "docs"], project)
    assert run(["git", "status", "--porcelain", "docs/data_schema.md"], project).stdout == "", "schema page was stale"
    assert f"| ROC AUC | {metrics['roc_auc']:.4f} |" in (project / "docs/model_card.md").read_text()
    assert f"{metrics['roc_auc']:.4f}" in (project / "docs/experiments.md").read_text()
    assert "| seed | 42 |" in (project / "docs/environment.md").read_text()


def test_dvc_repro_reruns_only_what_a_change_touches(project: Path, metrics: dict) -> None:
    """The README's way to call DVC directly: with the project's environment activated."""
    needs_dvc(project)
    second = run(["dvc", "repro"], project, activate=True)
    assert "Data and pipelines are up to date" in second.stdout
    assert "Running stage" not in second.stdout
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["evaluate"]["permutation_repeats"] += 1
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    rerun = run(["dvc", "repro"], project, activate=True).stdout
    assert "Running stage 'evaluate'" in rerun
    assert not [stage for stage in ("ingest", "validate", "featurize", "train") if f"Running stage '{stage}'" in rerun]
    assert "reports/metrics.json" in run(["dvc", "metrics", "diff", "--all"], project, activate=True).stdout


def test_dvc_push_and_pull_restore_the_model(project: Path, metrics: dict) -> None:
    needs_dvc(project)
    run(["dvc", "push"], project, activate=True)
    model = project / "models/model/model.skops"
    expected = model.read_bytes()
    run(["dvc", "gc", "--workspace", "--force"], project, activate=True)
    model.unlink()
    run(["rm", "-rf", ".dvc/cache"], project)
    run(["dvc", "pull"], project, activate=True)
    assert model.read_bytes() == expected


def test_corrupt_raw_data_stops_the_pipeline_and_keeps_the_last_good_model(project: Path, metrics: dict) -> None:
    automated = (project / "dvc.yaml").exists()
    model_before = (project / "models/model/model.skops").read_bytes()
    metrics_before = (project / "reports/metrics.json").read_text()
    versions_before = registered_versions(project) if automated else None
    corrupt_one_age(project)
    failed = run(["make", "pipeline"], project, check=False)
    assert failed.returncode != 0
    assert "expect_column_values_to_be_between on column 'age'" in failed.stderr + failed.stdout
    assert "Running stage 'featurize'" not in failed.stdout
    assert (project / "models/model/model.skops").read_bytes() == model_before
    assert (project / "reports/metrics.json").read_text() == metrics_before
    if automated:
        assert registered_versions(project) == versions_before
