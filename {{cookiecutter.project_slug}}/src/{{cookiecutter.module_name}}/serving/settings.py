"""Service configuration from environment variables: one image, behaviour chosen at deploy time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..optional import present

# what the project holds from level 2 on decides the defaults: the champion in the model registry,
# the shadow and canary strategies, the prediction log, and the drift report served as gauges
CHAMPION_URI = "models:/{{ cookiecutter.module_name }}@champion"
DEFAULT_MODEL_URI = CHAMPION_URI if present("models.registry") else "models/model"
STRATEGIES = ("basic", "shadow", "canary") if present("serving.rollout") else ("basic",)
DEFAULT_PREDICTION_LOG = "reports/predictions.db" if present("serving.prediction_log") else ""
DEFAULT_DRIFT_REPORT = "reports/drift.json" if present("monitoring") else None


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the service; `from_env` documents the variable behind each."""

    model_uri: str = DEFAULT_MODEL_URI
    candidate_uri: str | None = None
    strategy: str = "basic"
    canary_weight: float = 0.1
    max_body_bytes: int = 1024 * 1024
    max_rows: int = 1000
    max_header_bytes: int = 32 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    decision_threshold: float = 0.5
    batch_max_rows: int = 4096
    shadow_queue_size: int = 1000
    shutdown_grace_seconds: float = 10.0
    prediction_log: Path | None = None
    drift_report: Path | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise SettingsError(f"SERVING_STRATEGY must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if self.strategy != "basic" and not self.candidate_uri:
            raise SettingsError(f"SERVING_STRATEGY={self.strategy} needs CANDIDATE_MODEL_URI")
        if not 0.0 <= self.canary_weight <= 1.0:
            raise SettingsError(f"CANARY_WEIGHT must be between 0 and 1, not {self.canary_weight}")
        if self.max_body_bytes <= 0 or self.max_rows <= 0:
            raise SettingsError("MAX_BODY_BYTES and MAX_ROWS must be positive")
        if not 0 <= self.shutdown_grace_seconds <= 3600:
            raise SettingsError(f"SHUTDOWN_GRACE_SECONDS must be between 0 and 3600, not {self.shutdown_grace_seconds}")
        if not (self.max_header_bytes > 0 and self.header_timeout > 0 and self.body_timeout > 0):
            raise SettingsError("MAX_HEADER_BYTES, HEADER_TIMEOUT and BODY_TIMEOUT must be positive")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        log = env.get("PREDICTION_LOG", DEFAULT_PREDICTION_LOG)
        drift_report = env.get("DRIFT_REPORT", DEFAULT_DRIFT_REPORT) if DEFAULT_DRIFT_REPORT else None
        return cls(
            model_uri=env.get("MODEL_URI", DEFAULT_MODEL_URI),
            candidate_uri=env.get("CANDIDATE_MODEL_URI") or None,
            strategy=env.get("SERVING_STRATEGY", "basic"),
            canary_weight=float(env.get("CANARY_WEIGHT", "0.1")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(1024 * 1024))),
            max_rows=int(env.get("MAX_ROWS", "1000")),
            max_header_bytes=int(env.get("MAX_HEADER_BYTES", str(32 * 1024))),
            header_timeout=float(env.get("HEADER_TIMEOUT", "10")),
            body_timeout=float(env.get("BODY_TIMEOUT", "30")),
            decision_threshold=float(env.get("DECISION_THRESHOLD", "0.5")),
            batch_max_rows=int(env.get("BATCH_MAX_ROWS", "4096")),
            shadow_queue_size=int(env.get("SHADOW_QUEUE_SIZE", "1000")),
            shutdown_grace_seconds=float(env.get("SHUTDOWN_GRACE_SECONDS", "10")),
            prediction_log=Path(log) if log else None,
            drift_report=Path(drift_report) if drift_report is not None else None,
        )
