"""The HTTP contract of the prediction service: answers, errors, health and metrics."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.models.persistence import (
    load_model,
    model_threshold,
    record_threshold,
)
from {{ cookiecutter.module_name }}.schema import FEATURES, MODEL_INPUT, SENSITIVE, Column
from {{ cookiecutter.module_name }}.serving.contract import RECORD_COLUMNS
from {{ cookiecutter.module_name }}.serving.validation import MAX_ERRORS

from .conftest import ClientFactory


def test_prediction_has_label_probability_version_and_request_id(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    response = client.post("/predict", json={"records": records[:1]})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"predictions", "model_version", "request_id"}
    (prediction,) = body["predictions"]
    assert prediction["label"] in (0, 1)
    assert 0.0 <= prediction["probability"] <= 1.0
    assert body["model_version"].startswith("local-")
    assert prediction["model_version"] == body["model_version"]
    assert response.headers["x-request-id"] == body["request_id"]


def test_service_applies_exactly_what_training_applied(
    client: TestClient, records: list[dict[str, Any]], model_dir: Path
) -> None:
    body = client.post("/predict", json={"records": records}).json()
    expected = load_model(model_dir).predict_proba(pd.DataFrame.from_records(records, columns=FEATURES))[:, 1]
    served = np.array([prediction["probability"] for prediction in body["predictions"]])
    assert np.allclose(served, expected, rtol=0, atol=1e-9)
    assert [p["label"] for p in body["predictions"]] == (expected >= model_threshold(model_dir)).astype(int).tolist()


def test_labels_follow_the_threshold_the_model_was_saved_with(
    make_client: ClientFactory, records: list[dict[str, Any]], model_dir: Path, tmp_path: Path
) -> None:
    """The threshold travels in the model's manifest: no service setting can disagree with it."""
    probabilities = np.array(
        [p["probability"] for p in make_client().post("/predict", json={"records": records}).json()["predictions"]]
    )
    middle = float(np.median(probabilities))
    for threshold in (float(probabilities.min()), middle, float(np.nextafter(probabilities.max(), 2.0))):
        folder = tmp_path / f"model-{threshold}"
        shutil.copytree(model_dir, folder)
        record_threshold(folder, threshold)
        body = make_client(model_uri=str(folder)).post("/predict", json={"records": records}).json()
        assert [p["label"] for p in body["predictions"]] == (probabilities >= threshold).astype(int).tolist()
    assert 0 < int((probabilities >= middle).sum()) < len(records)  # the middle threshold splits the answers


def test_request_ids_are_the_services_own_never_the_clients(client: TestClient, records: list[dict[str, Any]]) -> None:
    answers = [
        client.post("/predict", json={"records": records[:1]}, headers={"X-Request-ID": header})
        for header in ("abc-123", "abc-123", "<script>" * 20)
    ]
    ids = [answer.json()["request_id"] for answer in answers]
    assert len(set(ids)) == 3  # a reused client id never names two predictions
    assert all(answer.headers["x-request-id"] == id_ for answer, id_ in zip(answers, ids, strict=True))
    assert not any("abc-123" in answer.text or "script" in answer.text for answer in answers)


def test_invalid_field_gets_422_naming_the_field_without_echoing_the_input(
    client: TestClient, records: list[dict[str, Any]], feature: Callable[..., Column]
) -> None:
    bounded, category = feature("int", "float", bounded=True), feature("category")
    record = {**records[0], bounded.name: bounded.max + 300, category.name: "SECRET-CATEGORY-VALUE"}
    response = client.post("/predict", json={"records": [records[1], record]})
    assert response.status_code == 422
    fields = {error["field"]: error["reason"] for error in response.json()["detail"]}
    assert set(fields) == {f"records.1.{bounded.name}", f"records.1.{category.name}"}
    assert f"less than or equal to {bounded.max:g}" in fields[f"records.1.{bounded.name}"]
    assert "SECRET-CATEGORY-VALUE" not in response.text
    assert "Traceback" not in response.text


def test_integers_beyond_64_bits_get_422_so_every_accepted_value_can_be_logged(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    column = next((c for c in RECORD_COLUMNS if c.dtype == "int" and c.max is None), None)
    if column is None:
        pytest.skip("every integer of the data contract has a maximum")
    refused = client.post("/predict", json={"records": [{**records[0], column.name: 2**63}]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == f"records.0.{column.name}"
    accepted = client.post("/predict", json={"records": [{**records[0], column.name: 2**63 - 1}]})
    assert accepted.status_code == 200, accepted.text


def test_nullable_features_accept_null_and_required_ones_refuse_it(
    client: TestClient, records: list[dict[str, Any]], feature: Callable[..., Column]
) -> None:
    required = feature("int", "float", "category", nullable=False).name
    refused = client.post("/predict", json={"records": [{**records[0], required: None}]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == f"records.0.{required}"
    optional = feature("int", "float", "category", nullable=True).name
    accepted = client.post("/predict", json={"records": [{**records[0], optional: None}]})
    assert accepted.status_code == 200, accepted.text


REQUIRED = next(c.name for c in MODEL_INPUT.by_role("feature") if not c.nullable)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"records": []}, "records"),
        ({}, "records"),
        ({"rows": []}, "body"),
        ({"records": [{}]}, f"records.0.{REQUIRED}"),
        ({"records": "all"}, "records"),
    ],
)
def test_malformed_payloads_get_422(client: TestClient, payload: dict[str, Any], field: str) -> None:
    response = client.post("/predict", json=payload)
    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["detail"]}


def test_unknown_field_is_refused(client: TestClient, records: list[dict[str, Any]]) -> None:
    unknown = SENSITIVE[0] if SENSITIVE else "not_in_the_contract"
    response = client.post("/predict", json={"records": [{**records[0], unknown: "x"}]})
    assert response.status_code == 422
    # a contract column that is not a model input is named; a name the contract lacks is not
    assert response.json()["detail"][0]["field"] == (f"records.0.{unknown}" if SENSITIVE else "records.0")


@pytest.mark.parametrize("where", ["record", "body"])
def test_an_unknown_field_name_is_never_echoed(client: TestClient, records: list[dict[str, Any]], where: str) -> None:
    name = "CLIENT-CHOSEN-NAME-" + "x" * 100_000
    payload = {"records": [{**records[0], name: 1}]} if where == "record" else {"records": records[:1], name: 1}
    response = client.post("/predict", json=payload)
    assert response.status_code == 422
    assert "CLIENT-CHOSEN-NAME" not in response.text
    assert len(response.content) < 1_000
    assert response.json()["detail"][0]["field"] == ("records.0" if where == "record" else "body")


def test_a_record_with_more_fields_than_the_contract_is_refused_before_validation(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    unknown = {f"k{i}": 0 for i in range(50_000)}
    crowded = {**records[0], **unknown}
    response = client.post("/predict", json={"records": [records[0], crowded]})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["field"] == "records.1"
    assert "fields; the data contract has" in error["reason"]


def test_rows_over_the_limit_are_refused_before_any_is_validated(make_client: ClientFactory) -> None:
    client = make_client(max_rows=1000)
    body = b'{"records": [' + b",".join([b"{}"] * 100_000) + b"]}"
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"] == "100000 records is more than the limit of 1000"


def test_many_invalid_records_give_a_short_422_that_counts_the_rest(make_client: ClientFactory) -> None:
    response = make_client(max_rows=1000).post("/predict", json={"records": [{}] * 1000})
    assert response.status_code == 422
    detail = response.json()["detail"]
    required = sum(not column.nullable for column in MODEL_INPUT.by_role("id", "feature"))
    assert len(detail) == MAX_ERRORS + 1
    assert detail[0]["field"].startswith("records.0.")
    assert detail[-1] == {
        "field": "body",
        "reason": f"{1000 * required - MAX_ERRORS} more errors not listed",
        "type": "too_many_errors",
    }


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2", b'{"records": [{"%s": NaN}]}' % REQUIRED.encode()])
def test_broken_json_gets_422(client: TestClient, body: bytes) -> None:
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_wrong_content_type_gets_415(client: TestClient, records: list[dict[str, Any]]) -> None:
    response = client.post(
        "/predict", content=json.dumps({"records": records[:1]}), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415


def test_a_compressed_body_gets_415(client: TestClient, records: list[dict[str, Any]]) -> None:
    body = gzip.compress(json.dumps({"records": records[:1]}).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    response = client.post("/predict", content=body, headers=headers)
    assert response.status_code == 415
    assert "Content-Encoding" in response.json()["detail"]


def test_body_over_the_limit_gets_413(make_client: ClientFactory, records: list[dict[str, Any]]) -> None:
    client = make_client(max_body_bytes=2_000)
    response = client.post("/predict", json={"records": records[:50]})
    assert response.status_code == 413
    assert "2000 bytes" in response.json()["detail"]


def test_chunked_body_over_the_limit_gets_413(make_client: ClientFactory, records: list[dict[str, Any]]) -> None:
    client = make_client(max_body_bytes=2_000)
    payload = json.dumps({"records": records[:50]}).encode()
    chunks = (payload[i : i + 500] for i in range(0, len(payload), 500))
    response = client.post("/predict", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_batch_over_the_row_limit_gets_413(make_client: ClientFactory, records: list[dict[str, Any]]) -> None:
    response = make_client(max_rows=5).post("/predict", json={"records": records[:6]})
    assert response.status_code == 413
    assert "limit of 5" in response.json()["detail"]


def test_model_failure_gets_a_generic_500_with_the_request_id(
    client: TestClient, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = client.app.state.service

    def explode(rows: list[dict[str, Any]]) -> np.ndarray:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service.batchers["primary"], "_score", explode)
    response = client.post("/predict", json={"records": records[:1]})
    assert response.status_code == 500
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_without_a_model_the_service_is_live_but_not_ready(
    make_client: ClientFactory, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    client = make_client(model_uri=str(tmp_path / "missing"))
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 503
    assert client.post("/predict", json={"records": records[:1]}).status_code == 503


def test_health_endpoints(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "live"}
    ready = client.get("/health/ready").json()
    assert ready["status"] == "ready"
    assert ready["model_version"].startswith("local-")


def test_metrics_count_requests_latency_and_probabilities(client: TestClient, records: list[dict[str, Any]]) -> None:
    version = client.get("/health/ready").json()["model_version"]
    client.post("/predict", json={"records": records[:3]})
    client.post("/predict", json={"records": []})
    text = client.get("/metrics").text
    assert 'http_requests_total{endpoint="/predict",model_version="' + version + '",status="200"} 1.0' in text
    assert 'endpoint="/predict",model_version="' + version + '",status="422"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert 'prediction_probability_count{model_version="' + version + '"} 3.0' in text
    assert "process_resident_memory_bytes" in text


def test_openapi_document_describes_the_request_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/predict"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PredictRequest"}
    schemas = document["components"]["schemas"]
    assert schemas["PredictRequest"]["properties"]["records"]["items"]["$ref"] == "#/components/schemas/Record"
    assert "200" in operation["responses"]
    assert "422" in operation["responses"]
    record = schemas["Record"]
    bounded = next((c for c in MODEL_INPUT.by_role("feature") if c.numeric and c.max is not None), None)
    if bounded is not None:
        assert json.dumps(record["properties"][bounded.name]).count(str(bounded.max).rstrip("0").rstrip(".")) >= 1


def test_the_answer_reads_back_as_json_dumps_writes_it() -> None:
    """The column-wise encoding of /predict answers reads back to the same document, every float exact."""
    from {{ cookiecutter.module_name }}.serving.app import answer, encode_predictions
    from {{ cookiecutter.module_name }}.serving.service import Scored

    rng = np.random.default_rng(1)
    probabilities = np.concatenate([rng.random(900), 10 ** rng.uniform(-320, 0, 98), [0.0, 1e-300]])
    models = [("v1", "primary") if i % 3 else ('v"2%s\\u00e9\\n%', "candidate") for i in range(len(probabilities))]
    scored = Scored('id"1', 'v1,v"2', probabilities, (probabilities >= 0.5).astype(int), models)
    encoded = encode_predictions(scored)
    assert json.loads(encoded) == answer(scored)
    assert encoded.startswith(json.dumps(answer(scored))[:60].encode())  # json.dumps's layout
    broken = Scored("id", "v1", np.array([np.nan, np.inf]), np.array([0, 1]), [("v1", "primary")] * 2)
    assert encode_predictions(broken) == json.dumps(answer(broken)).encode()
