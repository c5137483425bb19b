"""One error shape for every refusal: {"error": {"code", "message" (Indonesian), "details"}}."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import sqlalchemy
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal the client can understand: status, stable code, Indonesian message."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


_HTTP_DEFAULTS = {
    404: ("not_found", "Alamat tidak ditemukan."),
    405: ("request.method_not_allowed", "Metode permintaan ini tidak didukung di alamat ini."),
}


def _validation_details(exc: RequestValidationError) -> list[dict]:
    # Only where and what: the rejected input is left out so that no NIK is echoed or logged.
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """The `Allow` header of a 405: every method some route answers on this path. Asked of the
    routes one method at a time, because Starlette names only the first route it tried, and
    GET /quota and PUT /quota are two routes."""
    routes = request.app.router.routes
    return ", ".join(
        method for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
               for route in routes)
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        details = _validation_details(exc)
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return error_response(
                400, "request.bad_json", "Isi permintaan bukan JSON yang sah.", details
            )
        return error_response(
            422, "request.invalid", "Isi permintaan tidak sesuai format yang diharapkan.", details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code, message = _HTTP_DEFAULTS.get(
            exc.status_code, ("request.invalid", "Permintaan tidak dapat diproses.")
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(exc.status_code, code, message, headers=headers or None)

    @app.exception_handler(sqlite3.OperationalError)
    @app.exception_handler(psycopg.errors.LockNotAvailable)
    async def _busy(request: Request, exc: Exception):
        # A write lock held longer than the busy timeout (an admin's long job, a backup): the
        # request did nothing and may simply be sent again. (PostgreSQL: its lock_timeout.)
        if isinstance(exc, sqlite3.OperationalError) and "locked" not in str(exc) \
                and "busy" not in str(exc):
            return await _crash(request, exc)
        return error_response(
            503, "server.busy", "Server sedang sibuk. Permintaan belum diproses; coba lagi sebentar.",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg.InterfaceError)
    @app.exception_handler(sqlalchemy.exc.OperationalError)
    async def _database_lost(request: Request, exc: Exception):
        # PostgreSQL restarted, the network to it dropped, or two writers deadlocked and it
        # chose this one: the transaction was rolled back, and the same request sent again
        # succeeds once the database answers (a push is replayed by its batch id). One line
        # in the log, no traceback: an outage would otherwise print one per request.
        log.warning("database unavailable on %s %s (503): %s", request.method,
                    request.url.path, _first_line(exc))
        return error_response(
            503, "server.database_unavailable",
            "Basis data server sedang tidak dapat dihubungi. Permintaan belum diproses; coba "
            "lagi sebentar.", headers={"Retry-After": "5"},
        )

    async def _crash(request: Request, exc: Exception):
        # Unexpected errors are turned into a 500 by server.middleware.CrashGuardMiddleware.
        raise exc


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
