"""The FastAPI application: /predict{% if cookiecutter.__mlflow %}, /feedback{% endif %}, health, metrics and the Open Inference Protocol.

`create_app(settings)` builds an app around one Service; `python -m {{ cookiecutter.module_name }} serve`
runs it with uvicorn. Every error is an answer with a reason, never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from .contract import {% if cookiecutter.__mlflow %}FeedbackRequest, {% endif %}PredictRequest, PredictResponse
from .guard import Guard
from .oip import router as oip_router
from .service import NotReady, Service
from .settings import Settings

log = logging.getLogger(__name__)


def _field(location: tuple[Any, ...]) -> str:
    """'records.0.age' from pydantic's location, without the 'body' prefix."""
    parts = [str(part) for part in location if part != "body"]
    return ".".join(parts) or "body"


def error_response(status: int, detail: Any, request: Request) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "")
    return JSONResponse({"detail": detail, "request_id": request_id}, status_code=status)


REF_TEMPLATE = "#/components/schemas/{model}"


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
            for model in (PredictRequest, PredictResponse):
                definition = model.model_json_schema(ref_template=REF_TEMPLATE)
                components.update(definition.pop("$defs", {}))
                components[model.__name__] = definition
            errors = {"413": "Body or batch too large", "415": "Not JSON", "503": "No model loaded"}
            responses: dict[str, Any] = {status: {"description": text} for status, text in errors.items()}
            responses["200"] = {"description": "Predictions", "content": _json_content(PredictResponse)}
            responses["422"] = {"description": "A field breaks the data contract"}
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


def parse(model: type[BaseModel], body: bytes) -> Any:
    """Validate raw JSON in one pass (pydantic's parser, not json.loads then validation)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_input=False, include_url=False)) from None


class TooManyRows(ValueError):
    """A batch with more records than MAX_ROWS."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app = FastAPI(
        title={{ (cookiecutter.project_name ~ " prediction service") | tojson }},
        description={{ cookiecutter.description | tojson }},
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # the reason and the field, never the submitted values
        detail = [{"field": _field(e["loc"]), "reason": e["msg"], "type": e["type"]} for e in error.errors()]
        return error_response(422, detail, request)

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, error: NotReady) -> JSONResponse:
        return error_response(503, f"not ready: {error}", request)

    @app.exception_handler(TooManyRows)
    async def too_many_rows(request: Request, error: TooManyRows) -> JSONResponse:
        return error_response(413, str(error), request)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("request %s failed", getattr(request.state, "request_id", ""))
        return error_response(500, "internal error; quote the request id when reporting it", request)

    async def predict(request: Request) -> Response:
        """Churn probability and label for each record, with the version of the model that answered."""
        body = parse(PredictRequest, await request.body())
        if len(body.records) > settings.max_rows:
            raise TooManyRows(f"{len(body.records)} records is more than the limit of {settings.max_rows}")
        records = [record.model_dump() for record in body.records]
        scored = await service.predict(records, request.state.request_id)
        request.state.model_version = scored.model_version
        predictions = [
            {"label": label, "probability": probability}
            for label, probability in zip(scored.labels.tolist(), scored.probabilities.tolist(), strict=True)
        ]
        payload = {"predictions": predictions, "model_version": scored.model_version, "request_id": scored.request_id}
        return Response(json.dumps(payload), media_type="application/json")

    app.router.add_route("/predict", predict, methods=["POST"])
{%- if cookiecutter.__mlflow %}

    @app.post("/feedback", status_code=202)
    async def feedback(body: FeedbackRequest) -> dict[str, Any]:
        """Ground truth for an earlier request, stored for the feedback loop."""
        service.record_feedback(body.request_id, list(body.labels))
        return {"request_id": body.request_id, "accepted": len(body.labels)}
{%- endif %}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up (the model may still be loading)."""
        return {"status": "live"}

    @app.get("/health/ready")
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
    app.add_middleware(
        Guard, metrics=service.metrics, max_body_bytes=settings.max_body_bytes, version=lambda: service.version
    )
    return app
