"""Generated documentation is never stale."""

from __future__ import annotations

from pathlib import Path

from {{ cookiecutter.module_name }}.docs import render_schema_doc


def test_data_schema_page_matches_the_contract() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs/data_schema.md").read_text(encoding="utf-8")
    assert page == render_schema_doc(), "docs/data_schema.md is stale: run `make docs` and commit the result"
