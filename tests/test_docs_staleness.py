"""A generated project's own tests catch a schema page that is older than the data contract."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import new_project, run

pytestmark = pytest.mark.slow  # three pytest runs inside the generated project

STALENESS_TEST = "tests/unit/test_docs.py::test_data_schema_page_matches_the_contract"


def in_project(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python ...` in the project's own environment, activated as its README says."""
    return run(["python", *args], project, check=False, activate=True)


def test_a_contract_change_without_make_docs_fails_the_projects_tests(tmp_path: Path) -> None:
    project = new_project(tmp_path, project_name="Customer Churn")
    pytest_args = ("-m", "pytest", "-q", "-p", "no:cacheprovider", STALENESS_TEST)
    assert in_project(project, *pytest_args).returncode == 0

    contract = project / "src/customer_churn/contract.yaml"
    contract.write_text(
        contract.read_text().replace("description: CRM identifier}", "description: CRM customer number}", 1)
    )
    stale = in_project(project, *pytest_args)
    assert stale.returncode == 1
    assert "docs/data_schema.md is stale: run `make docs`" in stale.stdout

    assert in_project(project, "-m", "customer_churn", "docs").returncode == 0
    assert (
        "| `customer_id` | int | id | no | yes | >= 1 | CRM customer number |"
        in (project / "docs/data_schema.md").read_text()
    )
    assert in_project(project, *pytest_args).returncode == 0
