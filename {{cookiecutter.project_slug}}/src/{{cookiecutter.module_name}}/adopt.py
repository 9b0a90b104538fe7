"""Adopt the user's own table: contract, raw data, parameters and docs follow in one command.

Everything is inferred and checked before anything is written, so a refusal leaves the
project exactly as it was. Then the example goes (its code, tests and sample files), the
user's files become data/raw, params.yaml is sized to the data and the docs describe the
new contract, marking what a person still has to write.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import config
from .data.infer import InferenceRefused, Inferred, identifier, infer_contract, read_tables
from .data.sample import uses_example
from .docs import render_adopted_pages
from .schema import CONTRACT, Contract, dump_contract

log = logging.getLogger(__name__)

DVC_FILE = config.DVC_FILE
MAX_SELECTED = 30  # selection keeps at most this many transformed features by default
CONTRACT_HEADER = """\
# The data contract: every column this project reads or serves, in one file.
# Validation (the Great Expectations suites), the service's request model, the prediction log,
# drift and fairness, the test fixtures and docs/data_schema.md all derive from it.
# Written by `adopt` from the data: review the types, ranges, categories and descriptions.
#
# dtype: int | float | category | datetime.  role: id (one row each) | key (joins to another
# source) | feature (model input) | sensitive (fairness only, never a feature) | label | attribute.
# min/max bound numbers, allowed lists the categories; nullable and unique default to false.
# `source` is the raw header of a column renamed for the model input.
"""


class AdoptionRefused(ValueError):
    """The data cannot be adopted as given; nothing was changed."""


def raw_names(paths: list[Path]) -> list[str]:
    """File names for data/raw: the user's names, made safe for shells and Makefiles."""
    taken: set[str] = set()
    names = []
    for path in paths:
        stem = identifier(path.stem, taken)
        names.append(f"{stem}{path.suffix.lower()}")
    return names


def set_value(text: str, section: str, key: str, value: Any) -> str:
    """Replace `key`'s value inside a top-level `section` of params.yaml, keeping its comment in place."""
    block = re.search(rf"^{re.escape(section)}:.*?(?=^\S|\Z)", text, flags=re.M | re.S)
    if block is None:
        return text

    def keep_comment(match: re.Match[str]) -> str:
        old, comment = match.group(2), match.group(3) or ""
        if not comment:
            return f"{match.group(1)}{value}"
        gap = max(1, len(old) + len(comment) - len(comment.lstrip()) - len(str(value)))
        return f"{match.group(1)}{value}{' ' * gap}{comment.lstrip()}"

    pattern = rf"^(\s+{re.escape(key)}:[ \t]*)([^#\n]*?)([ \t]*#[^\n]*)?$"
    body = re.sub(pattern, keep_comment, block.group(0), count=1, flags=re.M)
    return text[: block.start()] + body + text[block.end() :]


def replace_section(text: str, section: str, body: str) -> str:
    """Replace a whole top-level section (its header line included) of params.yaml."""
    return re.sub(rf"^{re.escape(section)}:.*?(?=^\S|\Z)", lambda _: body, text, count=1, flags=re.M | re.S)


def features_section(contract: Contract, frame_stats: dict[str, Any]) -> str:
    model = contract.model_input
    numeric = [c for c in model.by_role("feature") if c.numeric]
    categorical = [c for c in model.by_role("feature") if c.dtype == "category"]
    width = len(numeric) + sum(len(c.allowed or ()) for c in categorical)
    k = min(width, MAX_SELECTED)
    skewed = frame_stats["skewed"]
    return (
        "features:\n"
        "  construct:                   # hand-made features, built before transformation (empty: none)\n"
        "    ratios: []                 # [name, numerator, denominator] -> numerator / (denominator + 1)\n"
        "    interactions: []           # [a, b] -> a * b, named a_x_b\n"
        "    group_deviation: {}        # {group: <category>, columns: [<numbers>]}: value minus its group's training mean\n"
        f"  {'log_columns: [' + ', '.join(skewed) + ']':<29}# right-skewed, non-negative amounts: log1p before scaling\n"
        "  selection: kbest             # kbest (univariate F-test) or rfe (recursive elimination)\n"
        f"  k: {k:<26}# number of features kept by the selection step ({width} after encoding)\n"
        "  fit_rows: 200000             # the pipeline is fitted on at most this many training rows (stratified sample; 0: all)\n"
        "\n"
    )


def gate_section() -> str:
    return (
        "gate:                          # evaluate fails (and nothing is promoted) when any bound is missed\n"
        "  # relative to a prior classifier that answers the positive rate (ROC AUC 0.5, average precision = rate)\n"
        "  min_roc_auc_over_baseline: 0.05\n"
        "  min_average_precision_over_baseline: 0.05\n"
        "  # add absolute bounds where you have them: min_<metric> / max_<metric> for any metric of reports/metrics.json,\n"
        "  # e.g. max_demographic_parity_difference: 0.10 once the sensitive groups are large enough\n"
        "\n"
    )


def sized_contract(contract: Contract, rows: int) -> Contract:
    """The contract with the model-input row bounds fitted to this table (the upper bound is kept)."""
    bounds = {"min_rows": min(100, max(1, rows // 2)), "max_rows": CONTRACT.model_input.max_rows}
    return dataclasses.replace(contract, model_input=dataclasses.replace(contract.model_input, **bounds))


def sized_params(text: str, contract: Contract, rows: int, stats: dict[str, Any]) -> str:
    """params.yaml with the feature lists, selection, gate and window sizes fitted to this table."""
    holdout = max(1, round(rows * float(re.search(r"holdout_fraction:\s*([0-9.]+)", text).group(1))))  # type: ignore[union-attr]
    text = re.sub(r"^  size:.*\n", "", text, count=1, flags=re.M)  # the example generator's setting
    text = replace_section(text, "features", features_section(contract, stats))
    text = replace_section(text, "gate", gate_section())
    text = set_value(text, "evaluate", "min_group_size", max(10, round(0.05 * holdout)))
    text = set_value(text, "evaluate", "permutation_rows", min(2000, holdout))
    text = set_value(text, "monitoring", "reference_rows", min(5000, rows - holdout))
    text = set_value(text, "monitoring", "window_rows", min(5000, max(50, rows // 5)))
    text = set_value(text, "monitoring", "min_rows", min(200, max(30, rows // 10)))
    text = set_value(text, "monitoring", "min_labelled", min(100, max(30, rows // 10)))
    return set_value(text, "retrain", "min_new_rows", max(100, rows // 2))


def column_stats(frame: Any, contract: Contract) -> dict[str, Any]:
    """Right-skewed non-negative numeric features (log1p candidates)."""
    skewed = []
    for column in contract.model_input.by_role("feature"):
        raw = frame[column.source or column.name]
        positive = column.numeric and column.min is not None and column.min >= 0
        if positive and raw.nunique() > 10 and float(raw.skew()) > 2.0:
            skewed.append(column.name)
    return {"skewed": skewed}


def remove_example() -> list[Path]:
    """Delete the churn example's code and tests; the contract must no longer use it."""
    if uses_example():
        raise AdoptionRefused(
            "contract.yaml still uses the example's aggregation: run `make adopt` with your data "
            "(or write your own contract) before removing the example"
        )
    return _delete_example()


def _delete_example() -> list[Path]:
    removed = [path for path in config.EXAMPLE_DIRS if path.exists()]
    for path in removed:
        shutil.rmtree(path)
    if DVC_FILE.exists():
        lines = DVC_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not re.search(r"^\s+- src/\w+/example\s*$", line)]
        if kept != lines:
            DVC_FILE.write_text("".join(kept), encoding="utf-8")
    return removed


def _write(path: Path, text: str) -> None:
    """Write through a temporary file: a crash never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _track_with_dvc(paths: list[Path]) -> None:
    dvc = Path(sys.executable).with_name("dvc")
    if not Path(".dvc").is_dir() or not dvc.exists():
        return
    subprocess.run([str(dvc), "add", "--quiet", *map(str, paths)], check=True)


def adopt(
    data: list[Path],
    target: str,
    positive: str | None = None,
    id_column: str | None = None,
    sensitive: list[str] | None = None,
    drop: list[str] | None = None,
) -> Inferred:
    """Make these files the project's data; print what was inferred and what to review."""
    names = raw_names(data)
    try:
        frame = read_tables(data)
        inferred = infer_contract(frame, names, target, positive, id_column, sensitive, drop)
    except InferenceRefused as refused:
        raise AdoptionRefused(str(refused)) from refused
    labelled = int(frame[target].notna().sum())
    contract = inferred.contract = sized_contract(inferred.contract, labelled)
    params_text = sized_params(
        config.PARAMS_FILE.read_text(encoding="utf-8"), contract, labelled, column_stats(frame, contract)
    )
    pages = render_adopted_pages(contract, labelled, [str(path) for path in data])

    old_files = {config.RAW_DIR / name for table in CONTRACT.sources for name in table.files}
    sample = uses_example()
    new_files = [config.RAW_DIR / name for name in names]
    config.RAW_DIR.mkdir(parents=True, exist_ok=True)
    for source, destination in zip(data, new_files, strict=True):
        if source.resolve() != destination.resolve():
            shutil.copy2(source, destination)
    for path in sorted(old_files - set(new_files)):
        if sample:  # the example's generated files go; anyone else's data stays where it is
            for stale in (path, path.with_name(path.name + ".dvc")):
                stale.unlink(missing_ok=True)
        elif path.exists():
            inferred.notes.append(f"{path} is no longer named by the contract: kept, ingest no longer reads it")
    _write(config.CONTRACT_FILE, dump_contract(contract, CONTRACT_HEADER))
    _write(config.PARAMS_FILE, params_text)
    for page, text in pages.items():
        _write(page, text)
    _delete_example()
    _track_with_dvc(new_files)
    print(summary(inferred, new_files, labelled))
    return inferred


def summary(inferred: Inferred, files: list[Path], rows: int) -> str:
    contract = inferred.contract
    model = contract.model_input
    features = model.by_role("feature")
    lines = [
        f"Adopted {len(files)} file(s) into data/raw: {', '.join(str(path) for path in files)} ({rows:,} labelled rows).",
        f"Target: {contract.target} (positive class: {contract.positive!r}).",
        f"Id: {next((c.name for c in model.by_role('id')), 'none')}; "
        f"sensitive: {', '.join(c.name for c in model.by_role('sensitive')) or 'none'}.",
        f"Features ({len(features)}): "
        + ", ".join(f"{c.name} ({c.dtype}{', nullable' if c.nullable else ''})" for c in features),
        "",
        f"Review: {config.CONTRACT_FILE} (types, ranges, categories), params.yaml",
        "(features, gate), and the pages marked 'To write' in docs/. Then: make pipeline.",
    ]
    if inferred.notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in inferred.notes)]
    return "\n".join(lines)
