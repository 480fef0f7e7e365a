"""Request id, access log, request metrics and security headers (web/headers.py), as one
pure ASGI middleware (no body buffering; a few microseconds a request, the intake path
included).

The request id is the caller's `X-Request-ID` when it looks like one (1-64 letters, digits
and `-_.:`; a proxy or load balancer may set it), else a new random one. It is echoed in the
response's `X-Request-ID`, bound to the log context for every line logged while the request
is served, and written in the access line. The access line names the path without its query
string (queries may carry a caller's number).
"""

from __future__ import annotations

import os
import re
from time import perf_counter
from typing import Any

import structlog

from hotline.logs import info_line_writer
from hotline.metrics import UNMATCHED, observe_request
from hotline.web.headers import SecurityHeaders, with_headers

REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")

log = structlog.get_logger("hotline.access")

Scope = dict[str, Any]


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            if _SANE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return os.urandom(16).hex()


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/v1/cases/{code}`): one metric series per route,
    never per case code."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestObserver:
    def __init__(self, app: Any, *, access_log: bool = True, production: bool = False) -> None:
        self.app = app
        self.access_log = access_log
        self.security = SecurityHeaders(production=production)
        # Logging is configured before the app is built (app.py); None: through structlog.
        self.write_line = info_line_writer()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        security = self.security.for_request(scope)
        status = 500  # an exception before any response is what the client gets
        started = perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The message is this response's own: completed in place, not copied.
                headers = with_headers(message.get("headers", ()), security)
                headers.append(header)
                message["headers"] = headers
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - started
            route = route_of(scope)
            method = scope["method"]
            observe_request(method, route, status, seconds)
            if self.access_log:
                client = scope.get("client")
                (self.write_line or log.info)(
                    "request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    ms=round(seconds * 1000, 1),
                    client=client[0] if client else None,
                )
            structlog.contextvars.reset_contextvars(**bound)
