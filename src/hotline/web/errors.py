"""Domain errors and validation errors as RFC 9457 problem+json, naming the field."""

from __future__ import annotations

import errno
import re
import socket
import sqlite3
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.errors import DomainError
from hotline.web.inputs import NUL, locate

log = structlog.get_logger(__name__)

PROBLEM = "application/problem+json"
# Seconds a client waits before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 5


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(exc: DomainError) -> JSONResponse:
    """A domain error as problem+json, naming its field."""
    extra: dict[str, Any] = {"code": exc.code}
    if exc.field:
        extra["field"] = exc.field
        extra["errors"] = [{"field": exc.field, "message": exc.detail}]
    return problem(exc.status, exc.title, exc.detail, **extra)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem(
            422,
            "Dữ liệu không hợp lệ",
            f"{first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(DBAPIError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(OverflowError)
    @app.exception_handler(OSError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        return database_problem(request, exc)


def database_problem(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After when the database cannot be reached; 422 naming the field when
    it refused a value no check caught before (web/inputs.py); anything else stays a 500."""
    if _unreachable(exc):
        log.warning("database_unreachable", error=str(exc))
        response = problem(
            503,
            "Dịch vụ tạm thời không khả dụng",
            "Không kết nối được cơ sở dữ liệu, vui lòng thử lại sau",
            code="DatabaseUnavailable",
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    refused = _refused_value(exc)
    if refused is not None:
        message, needle = refused
        field = (locate(request, needle) if needle is not None else None) or "body"
        log.warning("database_refused_value", field=field, error=str(exc))
        return problem(
            422,
            "Dữ liệu không hợp lệ",
            f"{field}: {message}",
            code="DatabaseRefusedValue",
            field=field,
            errors=[{"field": field, "message": message}],
        )
    raise exc


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return seen


def _unreachable(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, OperationalError | sqlite3.OperationalError):
            return True
        if isinstance(e, OSError) and _network_failure(e):
            return True
        if isinstance(
            e,
            asyncpg.PostgresConnectionError
            | asyncpg.InterfaceError
            | asyncpg.CannotConnectNowError
            | asyncpg.AdminShutdownError
            | asyncpg.TooManyConnectionsError,
        ):
            return True
        if isinstance(e, asyncpg.PostgresError) and str(e.sqlstate or "").startswith(("08", "57P")):
            return True
    return False


def _network_failure(exc: OSError) -> bool:
    # Only a socket's failures: a file that cannot be read is not a database outage.
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT)


def _refused_value(exc: BaseException) -> tuple[str, Any] | None:
    """For a value the database refused: the message, and the value to look for in the
    request (NUL, or the number out of its column's range; None when not known)."""
    for e in _chain(exc):
        if isinstance(
            e, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError
        ):
            return _NUL_REFUSED, NUL
        if isinstance(e, OverflowError | asyncpg.DataError):
            text = str(e)
            if "0x00" in text:
                return _NUL_REFUSED, NUL
            match = re.search(r"query argument \$\d+: (-?\d+)", text)
            if match:
                return "Giá trị vượt quá giới hạn lưu trữ", int(match.group(1))
            return "Giá trị không lưu được (quá dài, quá lớn hoặc sai dạng)", None
    return None


_NUL_REFUSED = "Không được chứa ký tự NUL (\\x00)"
