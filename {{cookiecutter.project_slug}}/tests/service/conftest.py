"""A small trained model folder and a running app around it, for the service tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.features.pipeline import build_feature_pipeline
from {{ cookiecutter.module_name }}.models.persistence import save_model
from {{ cookiecutter.module_name }}.models.train import fit_model
from {{ cookiecutter.module_name }}.schema import FEATURES, ID, LABEL
from {{ cookiecutter.module_name }}.serving.app import create_app
from {{ cookiecutter.module_name }}.serving.settings import Settings

ClientFactory = Callable[..., TestClient]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, model_input: pd.DataFrame, params: dict[str, Any]) -> Path:
    features = build_feature_pipeline(params).fit(model_input[FEATURES], model_input[LABEL])
    folder = tmp_path_factory.mktemp("served") / "model"
    save_model(fit_model(features, model_input, params), folder)
    return folder


@pytest.fixture(scope="session")
def records(model_input: pd.DataFrame) -> list[dict[str, Any]]:
    """Contract-valid request records (id + features) taken from the sample."""
    return model_input[[ID, *FEATURES]].head(200).to_dict("records")


@pytest.fixture
def make_client(model_dir: Path) -> Iterator[ClientFactory]:
    """Start an app with the given settings (default: the test model, basic strategy)."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        settings = Settings(**{"model_uri": str(model_dir), "prediction_log": None, **overrides})
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()
