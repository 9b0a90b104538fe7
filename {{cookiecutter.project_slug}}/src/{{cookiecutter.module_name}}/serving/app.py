{%- import 'answers.jinja' as answers -%}
"""The FastAPI application: /predict, health, metrics and the Open Inference Protocol (and /feedback from level 2).

`create_app(settings)` builds the app around one Service, behind the Guard (request ids,
limits, metrics); `python -m {{ cookiecutter.module_name }} serve`
runs it with uvicorn. Every error is an answer with a reason, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..optional import optional_module
from .contract import (
    PredictRequest,
    PredictResponse,
    error_responses,
)
from .guard import Guard, refusal_body
from .oip import InferRequest
from .oip import router as oip_router
from .service import NotReady, Service
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


def _json_content(model: type[BaseModel]) -> dict[str, Any]:
    reference = {"$ref": REF_TEMPLATE.format(model=model.__name__)}
    media = {"schema": reference}
    return {"application/json": media}


def document_raw_bodies(app: FastAPI) -> None:
    """Add the request bodies that routes read raw (for bounded validation) to the OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            components = generate().setdefault("components", {}).setdefault("schemas", {})
            for model in (PredictRequest, InferRequest):
                definition = model.model_json_schema(ref_template=REF_TEMPLATE)
                components.update(definition.pop("$defs", {}))
                components[model.__name__] = definition
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_predict_route(app: FastAPI, service: Service, settings: Settings) -> None:
    """POST /predict as a plain FastAPI route, reading the raw body for the bounded validation."""

    @app.post(
        "/predict",
        operation_id="predict",
        response_model=PredictResponse,
        responses=error_responses(413, 415, 422, 500, 503),
        openapi_extra={"requestBody": {"required": True, "content": _json_content(PredictRequest)}},
    )
    async def predict(request: Request) -> Response:
        """Churn probability and label for each record, with the version of the model that answered."""
        try:
            records = read_predict_request(await request.body(), settings.max_rows)
        except Refused as refusal:
            return error_response(refusal.status, refusal.detail, request)
        scored = await service.predict(records, request.state.request_id)
        request.state.model_version = scored.model_version
        predictions = [
            {"label": label, "probability": probability, "model_version": version}
            for label, probability, (version, _) in zip(
                scored.labels.tolist(), scored.probabilities.tolist(), scored.models, strict=True
            )
        ]
        payload = {"predictions": predictions, "model_version": scored.model_version, "request_id": scored.request_id}
        return JSONResponse(payload)


def create_app(settings: Settings | None = None) -> Guard:
    settings = settings or Settings.from_env()
    # from level 2, serving/rollout.py adds the candidate model, the prediction log and /feedback
    rollout = optional_module("serving.rollout")
    service = rollout.RolloutService(settings) if rollout is not None else Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app = FastAPI(
        title={{ answers.python_str(cookiecutter.project_name ~ " prediction service") }},
        description={{ answers.python_str(cookiecutter.description) }},
        version="0.1.0",
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
    add_predict_route(app, service, settings)
    document_raw_bodies(app)
    return Guard(app, service.metrics, settings.max_body_bytes, version=lambda: service.version)
