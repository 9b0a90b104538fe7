"""Generated documentation is never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.module_name }}.docs import MissingMarkers, render_schema_doc, replace_block


def test_data_schema_page_matches_the_contract() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs/data_schema.md").read_text(encoding="utf-8")
    assert page == render_schema_doc(), "docs/data_schema.md is stale: run `make docs` and commit the result"


def test_generated_blocks_are_rewritten_between_their_markers() -> None:
    page = "intro\n<!-- metrics:start -->\nold table\n<!-- metrics:end -->\nhuman notes\n"
    assert replace_block(page, "metrics", "new table") == (
        "intro\n<!-- metrics:start -->\nnew table\n<!-- metrics:end -->\nhuman notes\n"
    )


def test_a_page_without_its_markers_is_refused() -> None:
    with pytest.raises(MissingMarkers, match="metrics:start"):
        replace_block("no markers here", "metrics", "table")


def test_every_generated_block_has_its_markers() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    for page, names in {
        "environment.md": ["environment"],
        "model_card.md": ["metrics", "fairness"],
        "experiments.md": ["runs"],
    }.items():
        text = (docs / page).read_text(encoding="utf-8")
        for name in names:
            assert replace_block(text, name, "x")
