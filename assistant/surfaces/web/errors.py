"""One place that turns every failure into a JSON error body with a reason, never a stack trace.

Body: ``{"error": {"type": ..., "message": ..., "hint": ...}}`` — the shape OpenAI clients read too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from assistant.errors import (
    AssistantError,
    BackendUnavailable,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    LabelError,
    NotFound,
    NotReady,
    QueryError,
)

log = logging.getLogger("assistant.surfaces.http")


class ErrorDetail(BaseModel):
    type: str
    message: str
    hint: str = ""


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An HTTP-level refusal (auth, limits, readiness) raised by the API layer itself."""

    def __init__(
        self,
        status: int,
        *,
        type: str,
        message: str,
        hint: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.hint = hint
        self.headers = headers


# For the OpenAPI docs of the /v1 routes.
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "A body that is not UTF-8 JSON."},
    401: {"model": ErrorBody, "description": "Missing or invalid API key."},
    413: {"model": ErrorBody, "description": "Request body too large."},
    422: {"model": ErrorBody, "description": "Empty or too long query, or an invalid request."},
    503: {"model": ErrorBody, "description": "Not ready (the hint says what to run) or backend unavailable."},
}

# For the routes that search (assistant.surfaces.web.admission sheds them).
SEARCHES: dict[int | str, dict[str, object]] = {
    **ERRORS,
    429: {"model": ErrorBody, "description": "Too many searches in progress; retry after `Retry-After` s."},
}

# Domain error -> (HTTP status, error type). Checked in order; subclasses first.
DOMAIN_STATUS: list[tuple[type[AssistantError], int, str]] = [
    (QueryError, 422, "invalid_query"),
    (NotFound, 404, "not_found"),
    (NotReady, 503, "not_ready"),
    (IndexMissing, 503, "index_missing"),
    (IndexMismatch, 503, "index_mismatch"),
    (IndexCorrupt, 503, "index_corrupt"),
    (BackendUnavailable, 503, "backend_unavailable"),
    (LabelError, 500, "label_error"),
]

HTTP_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "overloaded",
}


def error_response(
    status: int, *, type: str, message: str, hint: str = "", headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(type=type, message=message, hint=hint))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def domain_status(exc: AssistantError) -> tuple[int, str]:
    for cls, status, kind in DOMAIN_STATUS:
        if isinstance(exc, cls):
            return status, kind
    return 400, "assistant_error"


def error_payload(exc: BaseException) -> ErrorBody:
    """The error body for an exception raised mid-stream (after the status line has been sent)."""
    if isinstance(exc, AssistantError):
        _, kind = domain_status(exc)
        return ErrorBody(error=ErrorDetail(type=kind, message=_message(exc), hint=exc.hint))
    if isinstance(exc, ApiError):
        return ErrorBody(error=ErrorDetail(type=exc.type, message=exc.message, hint=exc.hint))
    return ErrorBody(error=ErrorDetail(type="internal_error", message="internal error; see the server log"))


def _message(exc: AssistantError) -> str:
    return Exception.__str__(exc)


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        if err.get("type") == "json_invalid":
            parts.append("the body is not valid JSON")
            continue
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    async def _domain(request: Request, exc: AssistantError) -> JSONResponse:
        status, kind = domain_status(exc)
        if status >= 500:
            log.warning("%s %s -> %d %s", request.method, request.url.path, status, exc)
        headers = {"Retry-After": "5"} if isinstance(exc, NotReady) else None
        return error_response(status, type=kind, message=_message(exc), hint=exc.hint, headers=headers)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status, type=exc.type, message=exc.message, hint=exc.hint, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The input is not echoed back: it may be large or contain secrets.
        return error_response(
            422,
            type="invalid_request",
            message=_validation_message(list(exc.errors())),
            hint="see the request schema at /docs",
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        kind = HTTP_TYPES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else kind.replace("_", " ")
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}"
        return error_response(exc.status_code, type=kind, message=message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, type="internal_error", message="internal error; see the server log")
