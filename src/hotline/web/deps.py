"""Request dependencies: the app state and the actor making the request."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from hotline.auth.service import Actor, actor_for_page_session, actor_for_token
from hotline.errors import Unauthenticated
from hotline.web.state import AppState

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_state(request: Request) -> AppState:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread
    # hop on every request.
    state: AppState = request.app.state.hotline
    return state


async def current_actor(
    request: Request, token: str | None = Depends(oauth2), state: AppState = Depends(get_state)
) -> Actor:
    """The bearer token's user, or the signed-in page session's user."""
    if token:
        if (actor := state.tokens.actor_for(token)) is not None:
            return actor
        async with state.sessionmaker() as session:
            return await actor_for_token(session, token=token, cache=state.tokens)
    session_id = page_session_id(request)
    if session_id is not None:
        # The cookie only names a server-side session: sign-out, a password change or a
        # disabled account end it whatever the cookie says.
        async with state.unit_of_work() as session:
            return await actor_for_page_session(
                session, session_id=session_id, ttl_hours=state.settings.session_ttl_hours
            )
    raise Unauthenticated("Cần đăng nhập hoặc mã truy cập (Authorization: Bearer …)")


def page_session_id(request: Request) -> str | None:
    """The page-session id in the signed cookie, if the request has one."""
    if "session" not in request.scope:
        return None
    value = request.session.get("sid")
    return value if isinstance(value, str) and value else None


async def public_rate_limit(request: Request) -> None:
    """Dependency of the routes anyone may call without signing in."""
    state: AppState = request.app.state.hotline
    state.public.hit(request.client.host if request.client else "unknown")
