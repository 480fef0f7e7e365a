"""Page sessions only where they can matter."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class BearerSkipsSession:
    """API requests that carry a bearer token are authenticated by it alone (web/deps.py), so
    they bypass the signed-cookie session middleware: no cookie decoding or signing on every
    API call, intake included.

    Added right after SessionMiddleware, so it wraps it, and sends such requests straight to
    the app the session middleware wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inner = _innermost_after_session(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Pages (never under /api/) always get their session, whatever headers come.
        if scope["type"] == "http" and self.inner is not None and scope["path"][:5] == "/api/":
            for name, value in scope["headers"]:
                if name == b"authorization" and value[:7].lower() == b"bearer ":
                    await self.inner(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _innermost_after_session(app: ASGIApp) -> ASGIApp | None:
    from starlette.middleware.sessions import SessionMiddleware

    return app.app if isinstance(app, SessionMiddleware) else None
