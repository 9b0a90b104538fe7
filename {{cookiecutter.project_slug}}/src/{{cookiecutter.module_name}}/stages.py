"""The pipeline stages: each reads its inputs, calls the pure steps and writes its outputs.

`python -m {{ cookiecutter.module_name }} <stage>` runs one stage,
`python -m {{ cookiecutter.module_name }} pipeline` runs them all in order; from level 2,
dvc.yaml wires them with their dependencies, parameters and outputs.
Heavy libraries are imported inside the stage that needs them: Great Expectations alone
takes seconds to import, and every stage is a separate process.

Every output is written to a temporary path and renamed into place, so a stage that crashes
or fails leaves the previous outputs whole. `train` writes a candidate; only `evaluate`
replaces models/model, and only with a candidate that passed the quality gate.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from . import config
from .optional import optional_module
from .schema import LABEL, MODEL_INPUT, RAW_SOURCES

log = logging.getLogger(__name__)


def model_registry() -> ModuleType | None:
    """models/registry.py (from level 2): MLflow tracking and the model registry; None at level 1."""
    return optional_module("models.registry")


class StageFailed(RuntimeError):
    """A stage found a problem that must stop the pipeline; the message says what."""


def run_ingest(params: dict[str, Any]) -> None:
    """Build the model-input table (one row per entity) from the raw sources, in data/interim."""
    from .data.ingest import ingest

    ingest(config.RAW_DIR, config.MODEL_INPUT_FILE, params["data"]["snapshot_date"])


def run_validate(params: dict[str, Any]) -> None:
    """Check every raw source and the model-input table against the data contract."""
    from .data.ingest import CHUNK_ROWS, read_chunks, read_source_chunks
    from .data.validate import failure_lines, render_report, summary, validate_chunks

    results = [validate_chunks(read_source_chunks(table, config.RAW_DIR, CHUNK_ROWS), table) for table in RAW_SOURCES]
    results.append(validate_chunks(read_chunks(config.MODEL_INPUT_FILE, MODEL_INPUT, CHUNK_ROWS), MODEL_INPUT))
    config.write_json(config.VALIDATION_JSON, summary(results))
    config.write_text(config.VALIDATION_REPORT, render_report(results))
    problems = failure_lines(results)
    if problems:
        raise StageFailed(
            f"data validation failed ({len(problems)} problem(s); report: {config.VALIDATION_REPORT}):\n  "
            + "\n  ".join(problems)
        )
    log.info("all %d tables satisfy the data contract", len(results))


def feature_store() -> ModuleType | None:
    """features/store.py (with feature_store: feast): the Feast feature store; None without it."""
    return optional_module("features.store")


def run_materialize(params: dict[str, Any]) -> None:
    """Register the contract's entity and features in the feature store and fill its online store."""
    store = feature_store()
    if store is None:
        raise StageFailed("this project has no feature store (feature_store: feast adds src/.../features/store.py)")
    try:
        count = store.materialize(params, pd.read_parquet(config.MODEL_INPUT_FILE))
    except store.FeaturesMissing as missing:
        raise StageFailed(str(missing)) from missing
    log.info("feature store: %d entities registered and materialized (%s)", count, config.FEATURE_STORE_DIR)


def training_input(params: dict[str, Any]) -> pd.DataFrame:
    """The model-input table; with a feature store, its features come from a point-in-time join."""
    table = pd.read_parquet(config.MODEL_INPUT_FILE)
    store = feature_store()
    if store is None:
        return table
    try:
        return store.training_table(params, table)
    except store.FeaturesMissing as missing:
        raise StageFailed(str(missing)) from missing


def run_featurize(params: dict[str, Any]) -> None:
    """Split off the holdout and fit the feature pipeline on the training split only (at most features.fit_rows)."""
    from .features.pipeline import fit_feature_pipeline
    from .features.split import split_holdout
    from .models.persistence import save_skops

    train, holdout = split_holdout(
        training_input(params), float(params["split"]["holdout_fraction"]), int(params["seed"])
    )
    holdout_rows = len(holdout)
    write_parquet(holdout, config.HOLDOUT_FILE)
    del holdout  # only the training rows are needed from here on
    features = fit_feature_pipeline(params, train)
    selected = [str(name) for name in features.get_feature_names_out()]
    write_parquet(train, config.TRAIN_FILE)
    save_skops(features, config.FEATURES_FILE)
    config.write_json(config.SELECTED_FEATURES_FILE, {"selected": selected, "count": len(selected)})
    log.info("train %d rows, holdout %d rows, %d features selected", len(train), holdout_rows, len(selected))


def run_train(params: dict[str, Any]) -> None:
    """Fit the estimator on the training split into models/candidate; evaluate promotes it past the gate."""
    from .models.persistence import load_skops, save_model
    from .models.train import fit_model, training_environment

    train = pd.read_parquet(config.TRAIN_FILE)
    model = fit_model(load_skops(config.FEATURES_FILE), train, params)
    save_model(model, config.CANDIDATE_DIR, float(params["evaluate"]["threshold"]))
    environment = training_environment(params, config.RAW_DIR)
    config.write_json(config.TRAINING_INFO_FILE, environment)
    registry = model_registry()
    if registry is not None:
        registry.log_training(params, environment)
    log.info("candidate saved to %s: evaluate promotes it if it passes the quality gate", config.CANDIDATE_DIR)


def run_evaluate(params: dict[str, Any]) -> None:
    """Score the candidate on the holdout, write metrics and plots; promote it, or fail below the quality gate."""
    from .models.evaluate import (
        HoldoutTooSmall,
        check_holdout,
        fairness_report,
        feature_importance,
        gate_failures,
        predict_proba,
        summarize,
        write_plots,
    )
    from .models.persistence import load_model, promote_model

    holdout = pd.read_parquet(config.HOLDOUT_FILE)
    model = load_model(config.CANDIDATE_DIR)
    settings = params["evaluate"]
    threshold = float(settings["threshold"])  # what metrics are measured at; the promoted model answers with it
    try:
        check_holdout(holdout[LABEL].to_numpy(), int(settings.get("min_rows_per_class", 1)))
    except HoldoutTooSmall as small:
        raise StageFailed(str(small)) from small
    proba = predict_proba(model, holdout)
    fairness = fairness_report(holdout, proba, params)
    metrics = summarize(holdout, proba, params, fairness)
    failures = gate_failures(metrics, params["gate"])
    metrics["gate_passed"] = not failures
    importance = feature_importance(
        model, holdout, int(settings["permutation_repeats"]), int(settings["permutation_rows"]), int(params["seed"])
    )
    config.write_json(config.METRICS_FILE, metrics)
    config.write_json(config.FAIRNESS_FILE, fairness)
    config.write_json(config.IMPORTANCE_FILE, importance)
    write_plots(holdout[LABEL].to_numpy(), proba, threshold, config.PLOTS_DIR)
    registry = model_registry()
    if registry is not None:
        registry.log_evaluation(params, metrics, model, holdout, register=not failures)
    if failures:
        kept = f"{config.MODEL_DIR} is unchanged"
        if registry is not None:
            kept = f"{config.MODEL_DIR} and the registry's champion are unchanged (the candidate is not registered)"
        failed = "\n  ".join(failures)
        raise StageFailed(f"quality gate failed:\n  {failed}\n{config.CANDIDATE_DIR} is not promoted: {kept}")
    promote_model(config.CANDIDATE_DIR, config.MODEL_DIR, threshold)
    write_parquet(pd.DataFrame({"probability": proba}), config.HOLDOUT_SCORES_FILE)
    log.info(
        "quality gate passed, candidate promoted to %s: %s",
        config.MODEL_DIR,
        {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)},
    )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    with config.replacing(path) as temporary:
        frame.to_parquet(temporary, index=False)
