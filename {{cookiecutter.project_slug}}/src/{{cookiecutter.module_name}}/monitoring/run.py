"""The monitoring commands: each reads its inputs, calls the pure steps and writes its report."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .. import config
from ..prediction_log.store import describe
from ..schema import LABEL
from ..stages import StageFailed
from .windows import PREDICTION, batch_window, check_window, logged_window, reference_window

log = logging.getLogger(__name__)


def prediction_log() -> str | Path:
    """The log the service writes: PREDICTION_LOG (a file or a postgresql:// URL) as the service reads it."""
    return os.environ.get("PREDICTION_LOG") or config.PREDICTION_LOG_FILE


def champion_model() -> tuple[Any, str, float]:
    """The model the service answers with: the registry's champion, its version and its decision threshold."""
    from ..models.persistence import load_model, model_threshold
    from ..models.registry import download_registered

    with tempfile.TemporaryDirectory() as folder:
        try:
            model_dir, version = download_registered(config.CHAMPION_URI, Path(folder))
        except Exception as missing:
            raise StageFailed(f"no champion to monitor ({config.CHAMPION_URI}): run the pipeline first") from missing
        return load_model(model_dir), version, model_threshold(model_dir)


def run_drift(params: dict[str, Any], current_raw: Path | None) -> dict[str, Any]:
    """Compare the training data with the newest logged predictions or a raw batch; write JSON and HTML."""
    from .drift import compare
    from .report import render_html

    settings = params["monitoring"]
    reference = reference_window(int(settings["reference_rows"]), int(params["seed"]))
    reference_scores = pd.read_parquet(config.HOLDOUT_SCORES_FILE)["probability"].to_numpy(float)
    if current_raw is None:
        source = prediction_log()
        current = check_window(
            logged_window(source, int(settings["window_rows"])), describe(source), settings["min_rows"]
        )
    else:
        source = current_raw
        current = check_window(
            batch_window(current_raw, params["data"]["snapshot_date"]), str(source), settings["min_rows"]
        )
        from ..models.evaluate import predict_proba
        from ..models.persistence import load_model  # skops takes seconds to import: only for a raw batch

        current[PREDICTION] = predict_proba(load_model(config.MODEL_DIR), current)
    report = compare(reference, current, settings, (reference_scores, current[PREDICTION].to_numpy(float)))
    report["current_source"] = describe(source)
    report["generated_at"] = pd.Timestamp.now(tz="UTC").isoformat()
    config.write_json(config.DRIFT_JSON, report)
    reference_view = reference.assign(**{PREDICTION: pd.Series(reference_scores)})
    config.DRIFT_HTML.write_text(render_html(report, reference_view, current, "Drift report"), encoding="utf-8")
    drifted = report["drifted_features"] + (["the predictions"] if report["prediction_drifted"] else [])
    log.info("%s (report: %s)", f"DRIFT in {', '.join(drifted)}" if drifted else "no drift", config.DRIFT_HTML)
    return report


def labelled_batch(raw_dir: Path, params: dict[str, Any]) -> pd.DataFrame:
    """A labelled raw batch scored by the champion, shaped like the joined prediction log.

    Labels come from the champion's own threshold (its manifest), as the service would have answered.
    """
    from ..models.evaluate import predict_proba

    model, version, threshold = champion_model()
    batch = batch_window(raw_dir, params["data"]["snapshot_date"])
    probability = predict_proba(model, batch)
    log.info("scored %d labelled rows of %s with champion v%s", len(batch), raw_dir, version)
    return pd.DataFrame(
        {
            "served_at": pd.Timestamp.now(),
            "probability": probability,
            "predicted": (probability >= threshold).astype(int),  # as the champion answers
            "actual": batch[LABEL].to_numpy(int),
        }
    )


def run_feedback(params: dict[str, Any], current_raw: Path | None) -> dict[str, Any]:
    """Judge the served model against ground truth: /feedback labels, or a labelled batch."""
    from .feedback import feedback_report, logged_feedback

    frame = logged_feedback(prediction_log()) if current_raw is None else labelled_batch(current_raw, params)
    report = feedback_report(frame, params["monitoring"])
    report["source"] = describe(current_raw or prediction_log())
    config.write_json(config.FEEDBACK_JSON, report)
    overall = report["overall"]
    if overall["labelled"]:
        log.info(
            "%s: accuracy %.4f, F1 %.4f over %d labelled predictions",
            "DEGRADED" if report["degraded"] else "healthy",
            overall["accuracy"],
            overall["f1"],
            overall["labelled"],
        )
    else:
        log.info("no labelled predictions yet: nothing to judge")
    return report


def validated_batch(raw_dir: Path, params: dict[str, Any]) -> pd.DataFrame:
    """The new batch through the `ingest` and `validate` stages' own checks; a violation stops retraining."""
    from ..data.ingest import CHUNK_ROWS, build_model_input, read_source_chunks, source_chunks
    from ..data.validate import failure_lines, validate_chunks, validate_frame
    from ..schema import MODEL_INPUT, RAW_SOURCES

    results = [validate_chunks(read_source_chunks(table, raw_dir, CHUNK_ROWS), table) for table in RAW_SOURCES]
    if not (problems := failure_lines(results)):
        table = build_model_input(source_chunks(raw_dir), params["data"]["snapshot_date"])
        problems = failure_lines([validate_frame(table, MODEL_INPUT)])
    if problems:
        raise StageFailed(f"the new batch {raw_dir} breaks the data contract:\n  " + "\n  ".join(problems))
    return table


def run_retrain(
    params: dict[str, Any], new_data: Path | None, decide_only: bool, strategy: str | None = None
) -> dict[str, Any]:
    """Decide from the latest drift and feedback reports and the new data; retrain and promote a winner."""
    from .retrain import challenge, triggers

    settings = params["retrain"]
    strategy = strategy or settings["strategy"]
    drift = config.read_json(config.DRIFT_JSON) if config.DRIFT_JSON.exists() else None
    feedback = config.read_json(config.FEEDBACK_JSON) if config.FEEDBACK_JSON.exists() else None
    decision: dict[str, Any] = {
        "retrain": False,
        "reasons": [],
        "strategy": strategy,
        "new_data": str(new_data) if new_data else None,
        "promoted": False,
        "champion_version": None,
        "challenger_version": None,
        "decided_at": pd.Timestamp.now(tz="UTC").isoformat(),
    }
    try:
        batch = None
        if new_data is not None:
            snapshot = params["data"]["snapshot_date"]
            batch = batch_window(new_data, snapshot) if decide_only else validated_batch(new_data, params)
        reasons = triggers(settings, drift, feedback, 0 if batch is None else len(batch))
        decision["retrain"] = bool(reasons)
        decision["reasons"] = list(reasons) or ["no trigger fired: the champion stays"]
        if reasons and not decide_only:
            if batch is None:
                raise StageFailed("retraining needs new labelled data: pass --new-data DIR (a raw batch)")
            started = time.perf_counter()
            challenge(params, strategy, batch, pd.read_parquet(config.TRAIN_FILE), decision)
            decision["seconds"] = round(time.perf_counter() - started, 1)
    except Exception as error:
        decision["failed"] = str(error)
        raise
    finally:
        config.write_json(config.RETRAIN_DECISION_FILE, decision)
    log.info("retrain=%s promoted=%s: %s", decision["retrain"], decision["promoted"], "; ".join(decision["reasons"]))
    return decision
