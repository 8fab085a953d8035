"""Every error leaves as JSON `{"error": {"code", "message", "message_ja"}}`, never a trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from queue_server.domain.errors import DomainError

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error raised by the API layer itself (authentication, unknown action...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        message_ja: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.message_ja = message_ja
        self.headers = headers


def error_body(code: str, message: str, message_ja: str = "", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if message_ja:
        body["message_ja"] = message_ja
    body.update(extra)
    return {"error": body}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        extra = {}
        problems = getattr(exc, "problems", None)
        if problems:  # field name -> what is wrong; never the submitted value
            extra["problems"] = problems
        body = error_body(exc.code, exc.message, exc.message_ja, **extra)
        return JSONResponse(body, status_code=exc.status, headers=getattr(exc, "headers", None))

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.message_ja),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(
                error_body(
                    "malformed_json",
                    "the request body is not valid JSON",
                    "リクエストの形式が正しくありません。",
                ),
                status_code=400,
            )
        return _invalid(errors)

    @app.exception_handler(ValidationError)
    async def _body_validation(_: Request, exc: ValidationError) -> JSONResponse:
        return _invalid(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_away(request: Request, exc: Exception) -> JSONResponse:
        # The database restarted or the network dropped: nothing of the request was committed
        # (the writer rolls back and reconnects); the client may retry shortly.
        logger.warning("database unavailable on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(
                "database_unavailable",
                "the database is not reachable; nothing was changed, try again shortly",
                "ただいま処理できません。少し待ってからもう一度お試しください。",
            ),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The type only: exception text may echo request data.
        logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return JSONResponse(
            error_body(
                "internal_error",
                "internal error; the operation was not completed",
                "システムエラーが発生しました。",
            ),
            status_code=500,
        )


def _invalid(errors: Sequence[Any]) -> JSONResponse:
    """422 naming each bad field and what is wrong (never the submitted value)."""
    details = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
            "problem": e.get("msg", ""),
        }
        for e in errors
    ]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details)
    body = error_body(
        "validation_error",
        f"invalid request: {summary}",
        "入力内容に誤りがあります。",
        details=details,
    )
    return JSONResponse(body, status_code=422)
