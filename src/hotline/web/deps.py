"""Request dependencies: the app state and the actor making the request."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from hotline.auth.service import Actor, actor_for_token
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
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if user_id is not None:
        from hotline.auth.service import actor_of, get_user

        async with state.sessionmaker() as session:
            user = await get_user(session, int(user_id))
            if user.active:
                return actor_of(user)
    raise Unauthenticated("Cần đăng nhập hoặc mã truy cập (Authorization: Bearer …)")


async def public_rate_limit(request: Request) -> None:
    """Dependency of the routes anyone may call without signing in."""
    state: AppState = request.app.state.hotline
    state.public.hit(request.client.host if request.client else "unknown")
