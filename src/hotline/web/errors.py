"""Domain errors and validation errors as RFC 9457 problem+json, naming the field; for a
page a browser asked for (not /api/, not /hooks, not asking for JSON), the refusal page.

Messages (`hotline.messages`) are shown in the language of the `lang` cookie when the
request carries one (a page calling the API), else in Vietnamese (web/i18n.py).
"""

from __future__ import annotations

import errno
import re
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.errors import DomainError, InvalidInput
from hotline.messages import Message, msg
from hotline.web.deps import page_session_id
from hotline.web.i18n import COOKIE, finalize, language_of, template_context, translator
from hotline.web.inputs import NUL, locate
from hotline.web.page import nav_for, page_actor

log = structlog.get_logger(__name__)

PROBLEM = "application/problem+json"
# Seconds a client waits before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 5
Gettext = Callable[..., str]
# Addresses read by programs (the API, webhooks, probes, files), answered in problem+json.
MACHINE_PATHS = ("/api/", "/hooks", "/metrics", "/healthz", "/readyz", "/openapi", "/static/")
NOT_FOUND = msg("Không có trang này. Vui lòng kiểm tra lại đường dẫn.")
INVALID_VALUE = msg("Giá trị không hợp lệ")
HEADINGS = {
    403: msg("Không có quyền truy cập"),
    404: msg("Không tìm thấy"),
    422: msg("Dữ liệu không hợp lệ"),
    503: msg("Dịch vụ tạm thời không khả dụng"),
}
DEFAULT_HEADING = msg("Không thực hiện được")

_templates = Jinja2Templates(
    directory=str(Path(__file__).parent / "templates"), context_processors=[template_context]
)
_templates.env.finalize = finalize


def _vietnamese(message: str, /, **values: Any) -> str:
    return translator("vi")(message, **values)


def gettext_of(request: Request) -> Gettext:
    """Messages in the language of the `lang` cookie; Vietnamese without it."""
    if COOKIE not in request.cookies:
        return _vietnamese
    return translator(language_of(request))


def _shown(gettext: Gettext, value: Any) -> Any:
    return gettext(value) if isinstance(value, Message) else value


def wants_page(request: Request) -> bool:
    """A browser asking for a page: not the API, not a webhook, not a script asking JSON."""
    path = request.url.path
    if path == "/api" or path.startswith(MACHINE_PATHS):
        return False
    accept = request.headers.get("accept", "")
    return not ("json" in accept and "text/html" not in accept)


def _back(request: Request) -> str | None:
    """Where the page came from, on this site (for the refusal page's link back)."""
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    if referer.startswith(origin + "/"):
        back = referer[len(origin) :]
        if back != request.url.path:
            return back
    return None


# The citizens' pages (portal, tracking, a followed patient's check-in link): their refusal
# page leads back to the portal, not to the staff's sign-in behind `/`.
CITIZEN_PATHS = ("/phan-anh", "/tra-cuu", "/cham-soc/", "/tinh-nguyen")
CITIZEN_HOME = "/phan-anh"


def _home(request: Request) -> str:
    path = request.url.path
    citizen = any(path == p or path.startswith(p.rstrip("/") + "/") for p in CITIZEN_PATHS)
    return CITIZEN_HOME if citizen else "/"


async def page_nav(request: Request) -> dict[str, bool]:
    """The header's links for the signed-in user of a refused page (none when signed out,
    or when the database cannot say)."""
    if page_session_id(request) is None:
        return {}
    state = request.app.state.hotline
    try:
        async with state.unit_of_work(read_only=True) as session:
            actor = await page_actor(request, state, session)
    except Exception:  # the page still says why it was refused
        log.warning("refusal_page_nav_unavailable", exc_info=True)
        return {}
    return nav_for(actor)


def refusal_page(
    request: Request,
    status: int,
    message: str,
    *,
    title: str | None = None,
    nav: dict[str, bool] | None = None,
) -> Response:
    """The shared refusal page: its heading (`title`, else by status), the reason, a link
    back, the header's links when given; in the page's language."""
    return _templates.TemplateResponse(
        request,
        "refused.html",
        {
            "heading": title or HEADINGS.get(status, DEFAULT_HEADING),
            "message": message,
            "status": status,
            "back": _back(request),
            "home": _home(request),
            "nav": nav or {},
        },
        status_code=status,
    )


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(exc: DomainError, gettext: Gettext = _vietnamese) -> JSONResponse:
    """A domain error as problem+json, naming its field (its texts through `gettext`)."""
    detail, title = gettext(exc.detail), _shown(gettext, exc.title)
    extra: dict[str, Any] = {**exc.extra, "code": exc.code}
    if exc.field:
        extra["field"] = exc.field
        extra["errors"] = [{"field": exc.field, "message": detail}]
    return problem(exc.status, title, detail, **extra)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if wants_page(request):
            return refusal_page(request, exc.status, exc.detail)
        return domain_problem(exc, gettext_of(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        found = exc.errors()
        if wants_page(request):
            return await _validation_page(request, found)
        gettext = gettext_of(request)
        errors = [
            {
                "field": _field_of(tuple(e.get("loc", ()))),
                "message": _shown(gettext, validation_message(e)),
            }
            for e in found
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem(
            422,
            gettext(InvalidInput.title),
            f"{first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_page(request) and exc.status_code == 404:
            return refusal_page(request, 404, NOT_FOUND)
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(DBAPIError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(OverflowError)
    @app.exception_handler(OSError)
    async def _database(request: Request, exc: Exception) -> Response:
        answer = database_problem(request, exc)
        if not wants_page(request):
            return answer
        refused = _refused_value(exc) if answer.status_code == 422 else None
        reason = refused[0] if refused is not None else _UNAVAILABLE
        return refusal_page(request, answer.status_code, reason)


async def _validation_page(request: Request, errors: Any) -> Response:
    """A page refused by validation: a path that names nothing is "not found"; a form
    value no check could keep (web/inputs.py) says which field and why, a value of the
    page's address which part of the address; with the header's links."""
    nav = await page_nav(request)
    if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
        return refusal_page(request, 404, NOT_FOUND, nav=nav)
    first = errors[0] if errors else {}
    reason = validation_message(first) if first else None
    loc = tuple(first.get("loc", ()))
    field, why = _field_of(loc), reason if isinstance(reason, Message) else INVALID_VALUE
    if loc[:1] == ("query",):
        message = msg("Tham số “{field}” trong địa chỉ trang: {reason}", field=field, reason=why)
    else:
        message = msg("Trường {field}: {reason}", field=field, reason=why)
    return refusal_page(request, 422, message, nav=nav)


def validation_message(error: dict[str, Any]) -> Any:
    """A validation error's message: for pydantic's common kinds, the project's own (so it
    is shown in the page's language, with the limits pydantic gives); any other kept as
    pydantic says it (or as the project's check wrote it, already a Message)."""
    said = error.get("msg", "")
    if isinstance(said, Message):
        return said
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    made = _PYDANTIC.get(kind)
    if made is None:
        return said
    try:
        return made(ctx)
    except (KeyError, TypeError, ValueError):
        return said


def _choices(ctx: dict[str, Any]) -> tuple[str, ...]:
    """The values pydantic lists as "'F0', 'F1' or 'F2'": a tuple, shown as "F0, F1, F2" in
    any language (pydantic's English "or" stays out of a Vietnamese message)."""
    head, _, last = str(ctx["expected"]).rpartition(" or ")
    items = [*(head.split(", ") if head else ()), last]
    return tuple(i[1:-1] if len(i) > 1 and i[0] == i[-1] == "'" else i for i in items)


_PYDANTIC: dict[str, Callable[[dict[str, Any]], Message]] = {
    "string_too_long": lambda c: msg(
        "Chuỗi dài tối đa {max_length} ký tự", max_length=c["max_length"]
    ),
    "string_too_short": lambda c: msg(
        "Chuỗi phải có ít nhất {min_length} ký tự", min_length=c["min_length"]
    ),
    "missing": lambda c: msg("Thiếu trường bắt buộc"),
    "extra_forbidden": lambda c: msg("Không nhận trường này"),
    "int_parsing": lambda c: msg("Phải là số nguyên"),
    "int_type": lambda c: msg("Phải là số nguyên"),
    "int_from_float": lambda c: msg("Phải là số nguyên"),
    "float_parsing": lambda c: msg("Phải là số"),
    "float_type": lambda c: msg("Phải là số"),
    "finite_number": lambda c: msg("Phải là số hữu hạn"),
    "date_parsing": lambda c: msg("Ngày không hợp lệ: dùng dạng YYYY-MM-DD"),
    "date_from_datetime_parsing": lambda c: msg("Ngày không hợp lệ: dùng dạng YYYY-MM-DD"),
    "date_from_datetime_inexact": lambda c: msg("Ngày không hợp lệ: dùng dạng YYYY-MM-DD"),
    "date_type": lambda c: msg("Ngày không hợp lệ: dùng dạng YYYY-MM-DD"),
    "bool_parsing": lambda c: msg("Phải là true hoặc false"),
    # A StrictBool (a yes-or-no that is JSON true/false, never "yes" or 1) says bool_type.
    "bool_type": lambda c: msg("Phải là true hoặc false"),
    "dict_type": lambda c: msg("Phải là một đối tượng JSON"),
    "model_type": lambda c: msg("Phải là một đối tượng JSON"),
    "model_attributes_type": lambda c: msg("Phải là một đối tượng JSON"),
    "list_type": lambda c: msg("Phải là một danh sách"),
    "greater_than_equal": lambda c: msg("Phải lớn hơn hoặc bằng {ge}", ge=c["ge"]),
    "less_than_equal": lambda c: msg("Phải nhỏ hơn hoặc bằng {le}", le=c["le"]),
    "literal_error": lambda c: msg("Phải là một trong: {expected}", expected=_choices(c)),
    "enum": lambda c: msg("Phải là một trong: {expected}", expected=_choices(c)),
    "json_invalid": lambda c: msg("JSON không hợp lệ: {error}", error=str(c["error"])),
    "string_type": lambda c: msg("Phải là chuỗi ký tự"),
    "value_error": lambda c: msg("Giá trị không hợp lệ: {error}", error=str(c["error"])),
}


def database_problem(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After when the database cannot be reached; 422 naming the field when
    it refused a value no check caught before (web/inputs.py); anything else stays a 500."""
    gettext = gettext_of(request)
    if _unreachable(exc):
        log.warning("database_unreachable", error=str(exc))
        response = problem(
            503, gettext(_UNAVAILABLE_TITLE), gettext(_UNAVAILABLE), code="DatabaseUnavailable"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    refused = _refused_value(exc)
    if refused is not None:
        message, needle = gettext(refused[0]), refused[1]
        field = (locate(request, needle) if needle is not None else None) or "body"
        log.warning("database_refused_value", field=field, error=str(exc))
        return problem(
            422,
            gettext(InvalidInput.title),
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


def _refused_value(exc: BaseException) -> tuple[Message, Any] | None:
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
                return _TOO_BIG, int(match.group(1))
            return _NOT_STORED, None
    return None


_NUL_REFUSED = msg("Không được chứa ký tự NUL (\\x00)")
_TOO_BIG = msg("Giá trị vượt quá giới hạn lưu trữ")
_NOT_STORED = msg("Giá trị không lưu được (quá dài, quá lớn hoặc sai dạng)")
_UNAVAILABLE_TITLE = msg("Dịch vụ tạm thời không khả dụng")
_UNAVAILABLE = msg("Không kết nối được cơ sở dữ liệu, vui lòng thử lại sau")
