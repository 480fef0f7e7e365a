"""Page sessions only where they can matter."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

HOOK_PREFIX = "/hooks/"


class SkipSession:
    """Requests that never use the page session bypass the signed-cookie session middleware:
    no cookie decoding, no response wrapper, on every such request.

    - API requests that carry a bearer token are authenticated by it alone (web/deps.py),
      intake included;
    - providers' webhooks (`/hooks/...`) are authenticated by their signature over the
      body, never by a session (a provider sends no cookie), and are the path a surge of
      messages takes.

    Added right after SessionMiddleware, so it wraps it, and sends such requests straight to
    the app the session middleware wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inner = _innermost_after_session(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.inner is not None:
            path: str = scope["path"]
            # Pages (never under /api/ or /hooks/) always get their session.
            if path[:7] == HOOK_PREFIX:
                await self.inner(scope, receive, send)
                return
            if path[:5] == "/api/":
                for name, value in scope["headers"]:
                    if name == b"authorization" and value[:7].lower() == b"bearer ":
                        await self.inner(scope, receive, send)
                        return
        await self.app(scope, receive, send)


def _innermost_after_session(app: ASGIApp) -> ASGIApp | None:
    from starlette.middleware.sessions import SessionMiddleware

    return app.app if isinstance(app, SessionMiddleware) else None
