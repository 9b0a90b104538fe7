"""Service configuration from environment variables: one image, behaviour chosen at deploy time.

Each field reads the variable named by its alias; keyword arguments override them (tests do).
A value the service cannot run with stops it at start with one line naming the variable.
The decision threshold is not a setting: it travels with the model, in its manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .. import config
from ..optional import present

# what the project holds from level 2 on decides the defaults: the shadow and canary strategies,
# the prediction log, and the drift report served as gauges
STRATEGIES = ("basic", "shadow", "canary") if present("serving.rollout") else ("basic",)
DEFAULT_PREDICTION_LOG = config.PREDICTION_LOG_FILE if present("prediction_log") else None
DEFAULT_DRIFT_REPORT = config.DRIFT_JSON if present("serving.gauges") else None
# with a feature store, records that hold only the id are completed from its online store
DEFAULT_FEATURE_REPO = config.FEATURE_REPO_DIR if present("serving.lookup") else None


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


class Settings(BaseSettings):
    """Every knob of the service; the alias is the environment variable behind each."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, protected_namespaces=())

    model_uri: str = Field(config.SERVED_MODEL_URI, alias="MODEL_URI")
    candidate_uri: str | None = Field(None, alias="CANDIDATE_MODEL_URI")
    strategy: str = Field("basic", alias="SERVING_STRATEGY")
    canary_weight: float = Field(0.1, ge=0, le=1, alias="CANARY_WEIGHT")
    max_body_bytes: int = Field(1024 * 1024, gt=0, alias="MAX_BODY_BYTES")
    max_rows: int = Field(1000, gt=0, alias="MAX_ROWS")
    max_header_bytes: int = Field(32 * 1024, gt=0, alias="MAX_HEADER_BYTES")
    header_timeout: float = Field(10.0, gt=0, alias="HEADER_TIMEOUT")
    body_timeout: float = Field(30.0, gt=0, alias="BODY_TIMEOUT")
    batch_max_rows: int = Field(4096, alias="BATCH_MAX_ROWS")
    # processes answering on the one port: each loads the model and scores with one thread
    workers: int = Field(1, ge=1, le=64, alias="WORKERS")
    shadow_queue_size: int = Field(1000, alias="SHADOW_QUEUE_SIZE")
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=3600, alias="SHUTDOWN_GRACE_SECONDS")
    # a file, or a postgresql:// URL that every replica shares; empty: off
    prediction_log: Path | str | None = Field(DEFAULT_PREDICTION_LOG, alias="PREDICTION_LOG")
    drift_report: Path | None = Field(DEFAULT_DRIFT_REPORT, alias="DRIFT_REPORT")
    # the Feast feature repository (its feature_store.yaml names the online store); empty: ids only are refused
    feature_repo: Path | None = Field(DEFAULT_FEATURE_REPO, alias="FEATURE_REPO")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise SettingsError(_first_problem(error)) from None

    @field_validator("candidate_uri", "prediction_log", "drift_report", "feature_repo", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("prediction_log")
    @classmethod
    def _file_or_database(cls, value: Path | str | None) -> Path | str | None:
        if value is None or DEFAULT_PREDICTION_LOG is None:  # nothing logs below level 2
            return None
        from ..prediction_log.store import describe, is_url

        if is_url(value):
            return value
        if "://" in str(value):
            raise ValueError(f"PREDICTION_LOG takes a file or a postgresql:// URL, not {describe(value)!r}")
        return Path(value)

    @field_validator("drift_report")
    @classmethod
    def _only_with_gauges(cls, value: Path | None) -> Path | None:
        return value if DEFAULT_DRIFT_REPORT is not None else None  # nothing serves the gauges below level 2

    @field_validator("feature_repo")
    @classmethod
    def _only_with_lookup(cls, value: Path | None) -> Path | None:
        return value if DEFAULT_FEATURE_REPO is not None else None  # no feature store without feature_store: feast

    @model_validator(mode="after")
    def _strategy(self) -> Settings:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"SERVING_STRATEGY must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if self.strategy != "basic" and not self.candidate_uri:
            raise ValueError(f"SERVING_STRATEGY={self.strategy} needs CANDIDATE_MODEL_URI")
        return self

    @classmethod
    def from_env(cls) -> Settings:
        return cls()


def _first_problem(error: ValidationError) -> str:
    """One line: the variable and what is wrong with its value."""
    problem = error.errors()[0]
    if problem["type"] == "value_error":
        return str(problem["ctx"]["error"])
    name = str(problem["loc"][0]) if problem["loc"] else ""
    field = Settings.model_fields.get(name)
    variable = field.alias if field is not None and field.alias else name  # keyword arguments go by field name
    return f"{variable}: {problem['msg'].lower()}, not {problem['input']!r}"
