"""A running app around the small trained model folder, for the service tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.schema import FEATURES, ID
from {{ cookiecutter.module_name }}.serving.app import create_app
from {{ cookiecutter.module_name }}.serving.model_store import export_model
from {{ cookiecutter.module_name }}.serving.settings import Settings

ClientFactory = Callable[..., TestClient]


@pytest.fixture(scope="session")
def records(model_input: pd.DataFrame) -> list[dict[str, Any]]:
    """Contract-valid request records (id + features) taken from the sample."""
    frame = model_input[[*([ID] if ID else []), *FEATURES]].head(200).astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


@pytest.fixture(scope="session")
def candidate_dir(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model exported under another version, so answers show who replied."""
    folder = tmp_path_factory.mktemp("candidate") / "model"
    export_model(str(model_dir), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["version"] = "candidate-2"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def make_client(model_dir: Path) -> Iterator[ClientFactory]:
    """Start an app with the given settings (default: the test model, basic strategy)."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        settings = Settings(**{"model_uri": str(model_dir), "prediction_log": None, "feature_repo": None, **overrides})
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
