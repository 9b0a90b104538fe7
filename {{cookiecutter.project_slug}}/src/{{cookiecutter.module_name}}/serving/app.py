{%- import 'answers.jinja' as answers -%}
"""The FastAPI application: /predict, health, metrics and the Open Inference Protocol (and /feedback from level 2).

`create_app(settings)` builds the app around one Service, behind the Guard (request ids,
limits, metrics, and the /predict fast path); `python -m {{ cookiecutter.module_name }} serve`
runs it with uvicorn. Every error is an answer with a reason, never a traceback.
"""

from __future__ import annotations

import json
import logging
import operator
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..optional import optional_module
from .contract import (
    ErrorMessage,
    PredictRequest,
    PredictResponse,
    ValidationErrors,
    error_responses,
)
from .guard import FastHandler, Guard, refusal_body
from .oip import InferRequest
from .oip import router as oip_router
from .service import NotReady, Scored, Service
from .settings import Settings
from .validation import Refused, as_text, error_detail, read_predict_request

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal error; quote the request id when reporting it"


def error_response(status: int, detail: Any, request: Request) -> JSONResponse:
    """The error in the shape of the API it answers: the Open Inference Protocol's, or this service's."""
    if request.url.path.startswith("/v2/"):
        detail = as_text(detail)
    request_id = getattr(request.state, "request_id", "")
    return JSONResponse(refusal_body(request.url.path, detail, request_id), status_code=status)


REF_TEMPLATE = "#/components/schemas/{model}"
# json.dumps's layout, a row per (label, version) with its probability left to fill in
ANSWER_ROW = '{"label": %d, "probability": %%s, "model_version": %s}'
ANSWER_END = '], "model_version": %s, "request_id": %s}'


def _json_content(model: type[BaseModel]) -> dict[str, Any]:
    reference = {"$ref": REF_TEMPLATE.format(model=model.__name__)}
    media = {"schema": reference}
    return {"application/json": media}


def document_predict(app: FastAPI) -> None:
    """Describe POST /predict in the OpenAPI document.

    /predict is a plain Starlette route (the hot path skips FastAPI's per-request dependency
    handling), so its request and response schemas are added here, from the same models.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for model in (PredictRequest, PredictResponse, ValidationErrors, ErrorMessage, InferRequest):
                definition = model.model_json_schema(ref_template=REF_TEMPLATE)
                components.update(definition.pop("$defs", {}))
                components[model.__name__] = definition
            errors = {"413": "Body or batch too large", "415": "Not JSON", "500": "Model failure", "503": "No model"}
            responses: dict[str, Any] = {
                status: {"description": text, "content": _json_content(ErrorMessage)} for status, text in errors.items()
            }
            responses["200"] = {"description": "Predictions", "content": _json_content(PredictResponse)}
            responses["422"] = {
                "description": "A field breaks the data contract",
                "content": _json_content(ValidationErrors),
            }
            request_body = {"required": True, "content": _json_content(PredictRequest)}
            operation = {
                "summary": "Predict",
                "description": "Churn probability and label for each record, with the version of the model that answered.",
                "operationId": "predict",
                "requestBody": request_body,
                "responses": responses,
            }
            document["paths"]["/predict"] = {"post": operation}
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def answered_rows(scored: Scored) -> Iterator[tuple[int, float, str]]:
    """Each record's label, probability and the version of the model that answered it."""
    versions = (version for version, _ in scored.models)
    return zip(scored.labels.tolist(), scored.probabilities.tolist(), versions, strict=True)


def answer(scored: Scored) -> dict[str, Any]:
    """The /predict answer as a JSON document."""
    predictions = [
        {"label": label, "probability": probability, "model_version": version}
        for label, probability, version in answered_rows(scored)
    ]
    return {"predictions": predictions, "model_version": scored.model_version, "request_id": scored.request_id}


def encode_predictions(scored: Scored) -> bytes:
    """The /predict answer as JSON, built a column at a time: what json.dumps gives, read back.

    No dict is built per record: the probabilities are written in one call (the shortest spelling
    that reads back to the same float, as json.dumps writes it, though small ones may be spelled
    0.00001 rather than 1e-05), and each row is a template for its label and version, filled in.
    """
    if not np.isfinite(scored.probabilities).all():  # NaN and infinities: json.dumps's own spelling
        return json.dumps(answer(scored)).encode()
    versions = {version: json.dumps(version).replace("%", "%%") for version, _ in dict.fromkeys(scored.models)}
    rows = {
        (label, version): (ANSWER_ROW % (label, spelled)).encode()
        for label in (0, 1)
        for version, spelled in versions.items()
    }
    keys = zip(scored.labels.tolist(), map(operator.itemgetter(0), scored.models), strict=True)
    probabilities = msgspec.json.encode(scored.probabilities.tolist())[1:-1].split(b",")
    end = ANSWER_END % (json.dumps(scored.model_version), json.dumps(scored.request_id))
    filled = b", ".join(map(operator.mod, map(rows.__getitem__, keys), probabilities))
    return b"".join((b'{"predictions": [', filled, end.encode()))


def predict_handler(
    service: Service, settings: Settings, complete: Callable[[list[Any]], list[Any]] | None = None
) -> FastHandler:
    """POST /predict, served by the Guard without the framework's per-request machinery.

    It is the hottest path of the service, so it reads the raw body itself and answers with
    plain JSON; its errors are the same answers as everywhere else, bounded whatever the body.
    """

    async def predict(body: bytes, request_id: str) -> tuple[int, dict[str, Any] | bytes, str | None]:
        try:
            records = read_predict_request(body, settings.max_rows, complete)
        except Refused as refusal:
            return refusal.status, {"detail": refusal.detail, "request_id": request_id}, None
        try:
            scored = await service.predict(records, request_id)
        except NotReady as error:
            return 503, {"detail": f"not ready: {error}", "request_id": request_id}, None
        except Exception:  # a model failure is reported by request id; the traceback goes to the log
            log.exception("request %s failed", request_id)
            return 500, {"detail": INTERNAL_ERROR, "request_id": request_id}, None
        return 200, encode_predictions(scored), scored.model_version

    return predict


def create_app(settings: Settings | None = None) -> Guard:
    settings = settings or Settings.from_env()
    # from level 2, serving/rollout.py adds the candidate model, the prediction log and /feedback
    rollout = optional_module("serving.rollout")
    service = rollout.RolloutService(settings) if rollout is not None else Service(settings)
    # with a feature store (serving/lookup.py), records holding only the id are completed from it
    lookup = optional_module("serving.lookup")
    complete = lookup.OnlineFeatures(settings.feature_repo) if lookup is not None and settings.feature_repo else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()
        service.metrics.close()

    app = FastAPI(
        title={{ answers.python_str(cookiecutter.project_name ~ " prediction service") }},
        description={{ answers.python_str(cookiecutter.description) }},
        version=__version__,
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, error_detail(error.errors()), request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # the framework's own refusals (unparseable body, unknown path) in this service's shapes
        return error_response(error.status_code, str(error.detail), request)

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, error: NotReady) -> JSONResponse:
        return error_response(503, f"not ready: {error}", request)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("request %s failed", getattr(request.state, "request_id", ""))
        return error_response(500, INTERNAL_ERROR, request)

    if rollout is not None:
        rollout.add_routes(app, service)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up (the model may still be loading)."""
        return {"status": "live"}

    @app.get("/health/ready", responses=error_responses(503))
    async def ready() -> dict[str, str]:
        """A model is loaded and answering; 503 until then."""
        if not service.ready:
            raise NotReady(service.load_error or "model not loaded")
        return {"status": "ready", "model_version": service.version}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")

    app.include_router(oip_router)
    document_predict(app)
    return Guard(
        app,
        service.metrics,
        settings.max_body_bytes,
        version=lambda: service.version,
        fast_routes={"/predict": predict_handler(service, settings, complete)},
    )
