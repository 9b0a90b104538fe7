"""Documentation generated from code, so it cannot drift: docs/data_schema.md from schema.py."""

from __future__ import annotations

from pathlib import Path

from .schema import MODEL_INPUT, RAW_SOURCES, Column, Table

SCHEMA_DOC = Path("docs/data_schema.md")

HEADER = """# Data schema

Generated from `src/{{ cookiecutter.module_name }}/schema.py` by `make docs`: do not edit by hand. The same
contract builds the Great Expectations suites of the `validate` stage, so these are exactly the
rules the pipeline enforces. A test fails when this page is older than the contract.

Roles: `id` identifies a row (unique), `key` joins to customers, `feature` is a model input,
`sensitive` is used only for fairness metrics, `label` is the training target.
"""


def _allowed(column: Column) -> str:
    if column.allowed is not None:
        return ", ".join(f"`{value}`" for value in column.allowed)
    if column.min is not None and column.max is not None:
        return f"{column.min:g} .. {column.max:g}"
    if column.min is not None:
        return f">= {column.min:g}"
    return "" if column.max is None else f"<= {column.max:g}"


def render_table(table: Table) -> list[str]:
    lines = [
        f"### {table.name} (`{table.file}`)",
        "",
        table.description,
        "",
        f"Rows: at least {table.min_rows:,}.",
        "",
        "| column | type | role | nullable | unique | allowed values | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for column in table.columns:
        lines.append(
            f"| `{column.name}` | {column.dtype} | {column.role} | {'yes' if column.nullable else 'no'} | "
            f"{'yes' if column.unique else 'no'} | {_allowed(column)} | {column.description} |"
        )
    return [*lines, ""]


def render_schema_doc() -> str:
    lines = [HEADER]
    lines += ["## Raw sources (`data/raw`)", ""]
    for table in RAW_SOURCES:
        lines += render_table(table)
    lines += ["## Model input (`data/interim`)", ""]
    lines += render_table(MODEL_INPUT)
    return "\n".join(lines).rstrip() + "\n"
