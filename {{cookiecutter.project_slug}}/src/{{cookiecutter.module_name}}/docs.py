"""Documentation generated from code and outputs, so it cannot drift.

docs/data_schema.md is rendered from schema.py; the marked blocks of environment.md,
model_card.md and experiments.md are rewritten from the last training and evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import FAIRNESS_FILE, METRICS_FILE, TRAINING_INFO_FILE, read_json
from .schema import MODEL_INPUT, RAW_SOURCES, Column, Table

DOCS_DIR = Path("docs")
SCHEMA_DOC = DOCS_DIR / "data_schema.md"

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


class MissingMarkers(ValueError):
    """A page lost the comment markers around one of its generated blocks."""


def replace_block(text: str, name: str, body: str) -> str:
    """Rewrite what stands between `<!-- name:start -->` and `<!-- name:end -->`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise MissingMarkers(f"the page has no {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body.strip()}\n{end}{tail}"


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else str(value)


def environment_block(info: dict[str, Any]) -> str:
    packages = ", ".join(f"{name} {version}" for name, version in sorted(info.get("packages", {}).items()))
    rows = [
        ("Python", info.get("python")),
        ("packages", packages),
        ("seed", info.get("seed")),
        ("estimator", info.get("estimator")),
        ("platform", info.get("platform")),
        ("processor", f"{info.get('processor')}, {info.get('cpu_count')} CPUs"),
        ("git commit", info.get("git_commit") or "not committed"),
        ("data version", info.get("data_version")),
    ]
    lines = ["| item | value |", "|---|---|"]
    lines += [f"| {item} | {_number(value)} |" for item, value in rows]
    return "\n".join(lines)


def metrics_block(metrics: dict[str, Any], gate: dict[str, float]) -> str:
    names = (
        ("accuracy", "accuracy"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("f1", "F1"),
        ("roc_auc", "ROC AUC"),
    )
    lines = ["| metric | value | gate |", "|---|---|---|"]
    for key, label in names:
        bound = gate.get(f"min_{key}")
        lines.append(f"| {label} | {_number(metrics.get(key))} | {'-' if bound is None else f'at least {bound}'} |")
    return "\n".join(lines)


def fairness_block(fairness: dict[str, Any], gate: dict[str, float]) -> str:
    lines = ["| group | holdout rows | selection rate | true positive rate |", "|---|---|---|---|"]
    for group, row in sorted(fairness.get("by_group", {}).items()):
        lines.append(
            f"| {group} | {row['count']:,} | {_number(row['selection_rate'])} | {_number(row['true_positive_rate'])} |"
        )
    dp, eo = fairness["demographic_parity_difference"], fairness["equal_opportunity_difference"]
    lines += [
        "",
        f"Demographic parity difference {dp:.4f} (gate: at most {gate.get('max_demographic_parity_difference')}); "
        f"equal opportunity difference {eo:.4f} (gate: at most {gate.get('max_equal_opportunity_difference')}). "
        f"Groups with fewer than {fairness.get('min_group_size', 0)} holdout rows are reported but not gated.",
    ]
    return "\n".join(lines)


RUN_COLUMNS = ("date", "commit", "estimator", "change", "accuracy", "F1", "ROC AUC", "DP diff", "EO diff", "gate")


def runs_block(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(RUN_COLUMNS) + " |", "|" + "---|" * len(RUN_COLUMNS)]
    lines += ["| " + " | ".join(_number(row.get(column)) for column in RUN_COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def current_run(metrics: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """The run whose outputs are in reports/ and models/ (level 1 keeps its history in git)."""
    fairness = metrics.get("fairness", {})
    return {
        "date": "current",
        "commit": (info.get("git_commit") or "uncommitted")[:8],
        "estimator": info.get("estimator"),
        "change": "reports/ and models/",
        "accuracy": metrics.get("accuracy"),
        "F1": metrics.get("f1"),
        "ROC AUC": metrics.get("roc_auc"),
        "DP diff": fairness.get("demographic_parity_difference"),
        "EO diff": fairness.get("equal_opportunity_difference"),
        "gate": "passed" if metrics.get("gate_passed") else "failed",
    }


def refresh_page(path: Path, blocks: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for name, body in blocks.items():
        text = replace_block(text, name, body)
    path.write_text(text, encoding="utf-8")


def refresh_generated_blocks(params: dict[str, Any], runs: list[dict[str, Any]] | None = None) -> list[Path]:
    """Rewrite the generated blocks of the docs from the pipeline's outputs; return the pages written."""
    written = []
    info = read_json(TRAINING_INFO_FILE) if TRAINING_INFO_FILE.exists() else None
    metrics = read_json(METRICS_FILE) if METRICS_FILE.exists() else None
    if info is not None:
        refresh_page(DOCS_DIR / "environment.md", {"environment": environment_block(info)})
        written.append(DOCS_DIR / "environment.md")
    if metrics is not None and FAIRNESS_FILE.exists():
        blocks = {
            "metrics": metrics_block(metrics, params["gate"]),
            "fairness": fairness_block(read_json(FAIRNESS_FILE), params["gate"]),
        }
        refresh_page(DOCS_DIR / "model_card.md", blocks)
        written.append(DOCS_DIR / "model_card.md")
    if runs is None and metrics is not None and info is not None:
        runs = [current_run(metrics, info)]
    if runs:
        refresh_page(DOCS_DIR / "experiments.md", {"runs": runs_block(runs)})
        written.append(DOCS_DIR / "experiments.md")
    return written
