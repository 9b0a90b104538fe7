"""Documentation generated from code and outputs, so it cannot drift.

docs/data_schema.md is rendered from the data contract (contract.yaml); the marked blocks of environment.md,
model_card.md and experiments.md are rewritten from the last training and evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import config
from .config import FAIRNESS_FILE, METRICS_FILE, TRAINING_INFO_FILE, read_json
from .optional import present
from .schema import CONTRACT, Column, Contract, Table

MATERIALIZE = """## materialize (feature store)

    write the model input's id and feature columns, stamped with data.snapshot_date, to the offline store
    feast apply (entity = the id column, one feature view), then materialize the online store
    featurize reads the training rows' features back with a point-in-time join

"""

DOCS_DIR = config.DOCS_DIR
SCHEMA_DOC = DOCS_DIR / "data_schema.md"

HEADER = """# Data schema

Generated from `src/{{ cookiecutter.module_name }}/contract.yaml` by `make docs`: do not edit by hand. The same
contract builds the Great Expectations suites of the `validate` stage, so these are exactly the
rules the pipeline enforces. A test fails when this page is older than the contract.

Roles: `id` identifies a row (unique), `key` joins to another source, `feature` is a model input,
`sensitive` is used only for fairness metrics, `label` is the training target.
"""


def _cell(text: object) -> str:
    """Text that cannot break a Markdown table row or open markup."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("`", "'")


def _allowed(column: Column) -> str:
    if column.allowed is not None:
        return ", ".join(f"`{_cell(value)}`" for value in column.allowed)
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
            f"| `{_cell(column.name)}` | {column.dtype} | {column.role} | {'yes' if column.nullable else 'no'} | "
            f"{'yes' if column.unique else 'no'} | {_allowed(column)} | {_cell(column.description)} |"
        )
    return [*lines, ""]


def render_schema_doc(contract: Contract = CONTRACT) -> str:
    lines = [HEADER]
    lines += [f"Target: `{contract.target}`; the raw value `{_cell(contract.positive)}` is the positive class (1).", ""]
    lines += ["## Raw sources (`data/raw`)", ""]
    for table in contract.sources:
        lines += render_table(table)
    lines += ["## Model input (`data/interim`)", ""]
    lines += render_table(contract.model_input)
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


METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "average_precision": "average precision",
    "brier": "Brier score",
}


def _bounds(key: str, gate: dict[str, float]) -> str:
    bounds = []
    for kind, word in (("min", "at least"), ("max", "at most")):
        if f"{kind}_{key}" in gate:
            bounds.append(f"{word} {gate[f'{kind}_{key}']}")
        if f"{kind}_{key}_over_baseline" in gate:
            bounds.append(f"{word} baseline + {gate[f'{kind}_{key}_over_baseline']}")
    return "; ".join(bounds) or "-"


def metrics_block(metrics: dict[str, Any], gate: dict[str, float]) -> str:
    baseline = metrics.get("baseline", {})
    lines = ["| metric | value | prior baseline | gate |", "|---|---|---|---|"]
    for key, label in METRIC_LABELS.items():
        lines.append(f"| {label} | {_number(metrics.get(key))} | {_number(baseline.get(key))} | {_bounds(key, gate)} |")
    return "\n".join(lines)


def fairness_block(fairness: dict[str, Any], gate: dict[str, float]) -> str:
    attributes = fairness.get("attributes", {})
    if not attributes:
        return "No sensitive attribute in the data contract: fairness is not measured."
    lines = [
        "| attribute | group | holdout rows | selection rate | true positive rate |",
        "|---|---|---|---|---|",
    ]
    for attribute, report in attributes.items():
        for group, row in sorted(report["by_group"].items()):
            lines.append(
                f"| {attribute} | {group} | {row['count']:,} | {_number(row['selection_rate'])} | "
                f"{_number(row['true_positive_rate'])} |"
            )
    lines.append("")
    for attribute, report in attributes.items():
        gaps = ", ".join(
            f"{name.replace('_', ' ')} {_number(report[name])} (gate: {_bounds(name, gate)})"
            for name in ("demographic_parity_difference", "equal_opportunity_difference")
        )
        lines.append(f"- `{attribute}` ({report['status']}): {gaps}.")
    lines += [
        "",
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


TO_WRITE = "**To write:**"


def _names(columns: list[Column]) -> str:
    return ", ".join(f"`{_cell(column.name)}`" for column in columns) or "none"


def render_adopted_pages(contract: Contract, rows: int, files: list[str]) -> dict[Path, str]:
    """The doc pages that described the example, rewritten for an adopted contract.

    Facts come from the contract; what only a person knows is marked "To write" so it
    cannot pass for documentation.
    """
    model = contract.model_input
    source = contract.sources[0]
    label = model.column(contract.target)
    features, sensitive = model.by_role("feature"), model.by_role("sensitive")
    ids = model.by_role("id")
    raw_target = label.source or label.name
    sources = (
        """# Data sources

Record, for every raw file the pipeline reads: the system it comes from, who owns it, how it
is extracted, which time window it covers, how often it is refreshed, how large it is,
whether it holds personal data, and its known quirks. The column-level contract lives in
`src/{{ cookiecutter.module_name }}/contract.yaml` and is rendered in [Data schema](data_schema.md).

## Sources

| file | adopted from | rows when adopted | system of record | refresh |
|---|---|---|---|---|
"""
        + "".join(
            f"| `{_cell(name)}` | `{_cell(origin)}` | {rows:,} | {TO_WRITE} | {TO_WRITE} |\n"
            for name, origin in zip(source.files, files, strict=False)
        )
        + f"""
- Identifier: {_names(ids)}. Target: `{_cell(raw_target)}`.
- Personal or sensitive data: {_names(sensitive)} (used only to measure fairness).
- {TO_WRITE} who owns each file, how it is extracted, the time window it covers and its quirks.
"""
    )
    labeling = f"""# Labeling

Record exactly what the label means: the event, the population, the time windows, where the
ground truth comes from, when it becomes available and how edge cases are decided.

## Definition used in this project

- **Label:** `{_cell(contract.target)}` in the model input: 1 when the raw column
  `{_cell(raw_target)}` is `{_cell(contract.positive)}`, else 0. Rows without a value are left out of training.
- **Event:** {TO_WRITE} what happened for a row to be positive, and within which time window.
- **Population:** {TO_WRITE} which rows are in the table and which are excluded.
- **Availability:** {TO_WRITE} when the ground truth becomes known after a prediction.
- **Leakage check:** {TO_WRITE} confirm that no feature is known only after the label.
"""
    pseudocode = f"""# Pseudocode

Each stage is one command, `python -m {{ cookiecutter.module_name }} <stage>`, reading `params.yaml`
and the previous stage's files; `make pipeline` runs them in order.

## ingest

    read data/raw/{", ".join(source.files)} 500,000 rows at a time (one file after the other); per chunk:
        rename raw headers to the contract's model-input names
        target = 1 where {raw_target} == {contract.positive!r} else 0; drop rows without a target
        keep the model-input columns of contract.yaml; append to data/interim/model_input.parquet

## validate

    suites from contract.yaml: columns exist, types, nulls, ranges, categories, unique id
    run them on the raw source and on the model input; any failure stops the pipeline

{MATERIALIZE if present("features.store") else ""}## featurize

    train, holdout = stratified split by {contract.target} (split.holdout_fraction, seed)
    pipeline = construct (params features.construct) -> impute, log1p (features.log_columns),
        scale numbers, one-hot encode categories -> select k features
    fit the pipeline on train only, at most features.fit_rows rows of it ({", ".join(c.name for c in [*ids, *sensitive, label])} are not inputs)

## train

    fit the estimator (params model.estimator) on the transformed training split

## evaluate

    score the holdout; metrics, a prior baseline, fairness per sensitive attribute, plots
    fail when a bound of params.yaml's gate is missed
"""
    card = (DOCS_DIR / "model_card.md").read_text(encoding="utf-8")
    blocks = {
        name: card.split(f"<!-- {name}:start -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
        for name in ("metrics", "fairness")
    }
    model_card = f"""# Model card

What the model is for, what it was trained and evaluated on, how well it works overall and for
each group, and where it must not be used. The metric and fairness tables are rewritten by
`make docs`; the rest is written by a person.

## Model details

- **Task:** binary classification: the probability that `{_cell(contract.target)}` is 1
  (see [Labeling](labeling.md)).
- **Inputs:** {len(features)} feature columns of [Data schema](data_schema.md); {_names([*ids, *sensitive])} are never inputs.
- **Decision threshold:** `evaluate.threshold` in `params.yaml`, recorded in the model's `manifest.json`:
  the service answers with the threshold the model was evaluated at.

## Intended use

{TO_WRITE} who uses the scores, for which decision, and who reviews it.

## Out of scope

{TO_WRITE} decisions and populations the model must not be used for.

## Evaluation

The holdout is `split.holdout_fraction` of the {rows:,} labelled rows, split stratified by the target.

<!-- metrics:start -->{blocks["metrics"]}<!-- metrics:end -->

## Fairness

<!-- fairness:start -->{blocks["fairness"]}<!-- fairness:end -->

## Limitations and risks

{TO_WRITE} known weaknesses, groups with few rows, and how the data may drift.
"""
    return {
        DOCS_DIR / "data_sources.md": sources,
        DOCS_DIR / "labeling.md": labeling,
        DOCS_DIR / "pseudocode.md": pseudocode,
        DOCS_DIR / "model_card.md": model_card,
        SCHEMA_DOC: render_schema_doc(contract),
    }
