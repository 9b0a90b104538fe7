"""The service exposes the newest drift verdict to Prometheus, read at scrape time."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.serving.app import create_app
from {{ cookiecutter.module_name }}.serving.settings import Settings


def test_drift_gauges_follow_the_newest_report(model_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "drift.json"
    settings = Settings(model_uri=str(model_dir), prediction_log=None, drift_report=report)
    with TestClient(create_app(settings)) as client:
        assert "feature_drift_share" not in client.get("/metrics").text  # no report yet: no made-up value
        report.write_text(json.dumps({"drift_share": 0.25, "drifted": True}))
        text = client.get("/metrics").text
        assert "feature_drift_share 0.25" in text
        assert "drift_detected 1.0" in text
        report.write_text(json.dumps({"drift_share": 0.0, "drifted": False}))
        assert "drift_detected 0.0" in client.get("/metrics").text
