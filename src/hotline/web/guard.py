"""The request guard: who is calling, and how much body they may send, before any is read.

FastAPI reads and parses a route's body before it solves the route's dependencies, so an
anonymous client could make the server read, parse and spool to disk any body at all before
the sign-in check said no. This ASGI middleware (pure ASGI: it must see the body stream, which
`BaseHTTPMiddleware` would buffer) sits inside the session middleware and, for every request
that carries a body or changes state:

1. authenticates the caller (bearer token or page session) unless the route is public,
   answering 401 (API) or a redirect to the sign-in page (pages) without reading the body,
   and leaves the actor in the scope for the route's `current_actor` dependency;
2. for a cookie-authenticated state change under /api/, requires the session's CSRF token in
   `X-CSRF-Token` and a same-origin `Origin` (or `Referer`): 403 otherwise. Bearer tokens
   are never sent by a browser on its own, so those requests are exempt;
3. refuses a body whose content type the route does not take (415): JSON routes take only
   `application/json`, form routes only form encodings, upload routes only multipart;
4. caps the body: 413 at once when `Content-Length` says too much, and when a chunked (or
   lying) body passes the cap while streaming, it stops reading there and answers 413.

A refusal speaks the language of the `lang` cookie, as every other error does (web/errors.py),
and is the refusal page for a browser's own form post (one that asks for `text/html`; a
script's `fetch` or upload keeps problem+json). That work is done only when refusing: a
request let through costs what it did before.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import params
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.errors import DomainError, NotAllowed
from hotline.messages import msg
from hotline.portal.service import MAX_FILES as PORTAL_MAX_FILES
from hotline.web.deps import ACTOR_SCOPE_KEY, actor_from_request, bearer_token
from hotline.web.errors import domain_problem, gettext_of, refusal_page, wants_page

if TYPE_CHECKING:
    from hotline.settings import Settings
    from hotline.web.state import AppState

# Routes anyone may call with a body: the sign-in form and its sign-out, the language
# switch (its form token is checked by the route), the token endpoint,
# the public API, and the citizen portal's report, file and tracking forms and the
# tracking page's answer form (their routes check the form token and throttle), and a
# followed patient's check-in form (its signed link, form token and throttle:
# care/pages/link.py), and the volunteer sign-up form and its code form (their form token
# and throttle: staffing/pages/volunteer.py). Every other route with a body needs a signed-in caller
# before it is read.
PUBLIC_PATHS = frozenset(
    {
        "/login",
        "/logout",
        "/lang",
        "/api/v1/auth/token",
        "/phan-anh",
        "/tra-cuu",
        "/tra-cuu/tra-loi",
        "/tinh-nguyen",
        "/tinh-nguyen/xac-nhan",
    }
)
PUBLIC_PREFIXES = ("/api/v1/public/", "/phan-anh/", "/cham-soc/", "/hooks/")
# The web chat widget's two writes (web/webchat.py): no session, no CSRF token. The widget
# runs on another site and authenticates with a visitor token it sends in a header (never a
# cookie, so no other page can make a browser send it), and the routes answer CORS only to
# the channel's allowed origins. Exactly these paths: nothing else under /chat/ is public.
WEBCHAT_WRITES = re.compile(r"/chat/[0-9]{1,19}/(?:session|messages)")
WEBCHAT_MAX_BYTES = 16 * 1024
# Providers' webhooks (web/webchat.py): no session, no CSRF token, authenticated by their
# signature over the raw body, which the channel's adapter checks and reads in whatever
# content type its provider sends; the body cap still applies.
HOOK_PREFIX = "/hooks/"

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Room for the multipart framing and the small form fields beside an uploaded file.
MULTIPART_OVERHEAD = 64 * 1024
# The upload routes and the setting that caps each one's file. Every other body is capped by
# `request_max_bytes`. (Each path here ends with one of `_UPLOAD_ENDS` or has `_UPLOAD_PART`.)
UPLOAD_CAPS = (
    (re.compile(r"/api/v1/cases/[^/]+/attachments"), "attachment_max_bytes"),
    (re.compile(r"/api/v1/phone/prompts/[^/]+"), "prompt_upload_max_bytes"),
    (re.compile(r"/admin/phone/prompts/[^/]+/upload"), "prompt_upload_max_bytes"),
    (re.compile(r"/phan-anh/[^/]+/tep"), "attachment_max_bytes"),
)
# The citizen portal's report form (portal/pages.py), which takes its photos too.
PORTAL_REPORT = "/phan-anh"

JSON, FORM, UPLOAD = "json", "form", "upload"
_FORM_ENCODED, _MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class BodyTooLarge(DomainError):
    status = 413
    title = msg("Nội dung quá lớn")


class UnsupportedContentType(DomainError):
    status = 415
    title = msg("Kiểu nội dung không được hỗ trợ")


class _StopReading(HTTPException):
    """Raised from `receive` to refuse the body. An HTTPException so that FastAPI passes it
    on unchanged (it turns other errors while reading a body into a 400)."""

    def __init__(self, status: int) -> None:
        super().__init__(status_code=status)


# Every path an upload cap or the web chat's cap applies to has one of these (so that a path
# without them, intake's, is not matched against each pattern).
_UPLOAD_ENDS = ("/attachments", "/upload", "/tep")
_UPLOAD_PART = "/prompts/"
_WEBCHAT_PREFIX = "/chat/"


def _webchat_write(path: str) -> bool:
    return path.startswith(_WEBCHAT_PREFIX) and WEBCHAT_WRITES.fullmatch(path) is not None


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or _webchat_write(path)


def body_cap(settings: Settings, path: str, content_type: str = "") -> int:
    """The most body bytes a request to `path` (in `content_type`) may send."""
    if path.endswith(_UPLOAD_ENDS) or _UPLOAD_PART in path:
        for pattern, name in UPLOAD_CAPS:
            if pattern.fullmatch(path):
                return int(getattr(settings, name)) + MULTIPART_OVERHEAD
    if path == PORTAL_REPORT and _media_type(content_type) == _MULTIPART:
        # A browser without the script posts the report's photos in the form itself.
        return (
            settings.request_max_bytes
            + PORTAL_MAX_FILES * settings.attachment_max_bytes
            + MULTIPART_OVERHEAD
        )
    if _webchat_write(path):
        return min(WEBCHAT_MAX_BYTES, settings.request_max_bytes)
    return settings.request_max_bytes


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = _content_length(headers)
        has_body = bool(length) or "transfer-encoding" in headers
        method = scope["method"]
        if not has_body and method not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.hotline
        path: str = scope["path"]
        api = path.startswith("/api/")
        if not is_public(path):
            conn = HTTPConnection(scope)
            try:
                scope[ACTOR_SCOPE_KEY] = await actor_from_request(conn, state)
            except DomainError as exc:
                if api:
                    await _refuse(exc, scope, receive, send)
                else:
                    await RedirectResponse("/login", status_code=303)(scope, receive, send)
                return
            cookie_write = api and method in STATE_CHANGING and bearer_token(conn) is None
            if cookie_write and (refusal := _csrf_refusal(conn)) is not None:
                await _refuse(refusal, scope, receive, send)
                return
        if not has_body:
            await self.app(scope, receive, send)
            return
        cap = body_cap(state.settings, path, headers.get("content-type", ""))
        if length is not None and length > cap:
            await _refuse(_too_large(cap), scope, receive, send)
            return
        content_type = None if path.startswith(HOOK_PREFIX) else headers.get("content-type", "")
        await _BodyGate(self.app, cap, content_type)(scope, receive, send)


class _BodyGate:
    """Lets the route read its body only in a content type it takes, and at most `cap`
    bytes of it; otherwise stops reading and answers 415 or 413 itself.

    The content type is judged at the route's first read: by then the router has put the
    matched route in the scope, and its declared body says what it takes.
    """

    def __init__(self, app: ASGIApp, cap: int, content_type: str | None) -> None:
        self.app, self.cap, self.content_type = app, cap, content_type
        self.received = 0
        self.checked = content_type is None  # None: the route reads any content type
        self.refusal: DomainError | None = None
        self.started = False  # a response has begun going out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def gated_receive() -> Message:
            if self.refusal is not None:
                raise _StopReading(self.refusal.status)
            if not self.checked:
                self.checked = True
                route = scope.get("route")
                kind = _body_kind(route) if isinstance(route, APIRoute) else None
                if kind is not None and not _accepts(kind, self.content_type or ""):
                    self.refusal = _wrong_type(kind)
                    raise _StopReading(self.refusal.status)
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.cap:
                    self.refusal = _too_large(self.cap)
                    raise _StopReading(self.refusal.status)
            return message

        async def gated_send(message: Message) -> None:
            if self.refusal is not None:
                # Whatever the app makes of the refused body, the answer is the refusal.
                if message["type"] == "http.response.start" and not self.started:
                    self.started = True
                    await _refuse(self.refusal, scope, receive, send)
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, gated_receive, gated_send)
        except _StopReading:
            if self.started or self.refusal is None:
                raise
            self.started = True
            await _refuse(self.refusal, scope, receive, send)


async def _refuse(exc: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the refusal, in the caller's language: the refusal page for a browser's
    form post to a page, problem+json for the API and for scripts."""
    request = Request(scope, receive)
    if wants_page(request) and "text/html" in request.headers.get("accept", ""):
        response = refusal_page(request, exc.status, exc.detail, title=exc.title)
    else:
        response = domain_problem(exc, gettext_of(request))
    await response(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _body_kind(route: APIRoute) -> str:
    field = route.body_field
    if field is not None and isinstance(field.field_info, params.File):
        return UPLOAD
    if field is not None and isinstance(field.field_info, params.Form):
        return FORM
    # Routes that take no body, or parse their own (case intake), take JSON.
    return JSON


def _media_type(content_type: str) -> str:
    # "application/json; charset=utf-8" -> "application/json" (intake is the hot path: no
    # full header parse for this).
    return content_type.partition(";")[0].strip().lower()


def _accepts(kind: str, content_type: str) -> bool:
    media = _media_type(content_type)
    if kind == UPLOAD:
        return media == "multipart/form-data"
    if kind == FORM:
        return media in _FORM_TYPES
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _wrong_type(kind: str) -> UnsupportedContentType:
    wanted: str = {
        JSON: "application/json",
        FORM: msg("{one} hoặc {other}", one=_FORM_ENCODED, other=_MULTIPART),
        UPLOAD: _MULTIPART,
    }[kind]
    return UnsupportedContentType(
        msg("Nội dung phải gửi dạng {wanted}", wanted=wanted), field="Content-Type"
    )


def _too_large(cap: int) -> BodyTooLarge:
    mib = 1024 * 1024
    size = f"{cap / mib:.0f} MB" if cap >= mib else f"{max(1, cap // 1024)} KB"
    return BodyTooLarge(msg("Nội dung yêu cầu vượt quá {size}", size=size), field="body")


def _csrf_refusal(conn: HTTPConnection) -> NotAllowed | None:
    """Why a cookie-authenticated state change is refused, or None if it may go ahead."""
    expected = str(conn.session.get("csrf") or "")
    sent = conn.headers.get("x-csrf-token", "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return NotAllowed(
            "Thiếu hoặc sai mã chống giả mạo (X-CSRF-Token) của phiên đăng nhập",
            field="X-CSRF-Token",
        )
    if not _same_origin(conn):
        return NotAllowed("Yêu cầu không đến từ trang của hệ thống", field="Origin")
    return None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _same_origin(conn: HTTPConnection) -> bool:
    """`Origin` (else `Referer`) names this host. Host and port only: behind a TLS proxy
    the scheme the app sees can differ from the browser's."""
    source = conn.headers.get("origin") or conn.headers.get("referer")
    host = conn.headers.get("host", "")
    if not source or not host:
        return False
    try:
        origin, target = urlsplit(source), urlsplit("//" + host)
        default = _DEFAULT_PORTS.get(origin.scheme)
        if default is None or not origin.hostname:
            return False  # "null" (sandboxed or privacy-stripped), or not a web origin
        return origin.hostname == target.hostname and (origin.port or default) == (
            target.port or default
        )
    except ValueError:  # a malformed port
        return False
