"""Request dependencies: the app state and the actor making the request."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

from hotline.auth.service import Actor, actor_for_page_session, actor_for_token
from hotline.auth.service_accounts import check_route
from hotline.errors import Unauthenticated
from hotline.web.state import AppState

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# Where web/guard.py leaves the actor it resolved before the body was read, so that the
# route's dependency does not resolve it a second time.
ACTOR_SCOPE_KEY = "hotline.actor"


async def get_state(request: Request) -> AppState:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread
    # hop on every request.
    state: AppState = request.app.state.hotline
    return state


def bearer_token(conn: HTTPConnection) -> str | None:
    """The `Authorization: Bearer …` token, if the request carries one."""
    scheme, param = get_authorization_scheme_param(conn.headers.get("authorization"))
    return param if scheme.lower() == "bearer" and param else None


async def actor_from_request(conn: HTTPConnection, state: AppState) -> Actor:
    """The bearer token's user, or the signed-in page session's user (no body is read)."""
    known: Actor | None = conn.scope.get(ACTOR_SCOPE_KEY)
    if known is not None:
        return known
    token = bearer_token(conn)
    if token:
        actor = state.tokens.actor_for(token)
        if actor is None:
            async with state.unit_of_work(read_only=True) as session:
                actor = await actor_for_token(session, token=token, cache=state.tokens)
        # A service account's token opens its own routes only, whatever else they check.
        check_route(actor, conn.scope.get("method", "GET"), conn.scope["path"])
        return actor
    session_id = page_session_id(conn)
    if session_id is not None:
        # The cookie only names a server-side session: sign-out, a password change or a
        # disabled account end it whatever the cookie says.
        async with state.unit_of_work() as session:
            return await actor_for_page_session(
                session, session_id=session_id, ttl_hours=state.settings.session_ttl_hours
            )
    raise Unauthenticated("Cần đăng nhập hoặc mã truy cập (Authorization: Bearer …)")


def page_session_id(conn: HTTPConnection) -> str | None:
    """The page-session id in the signed cookie, if the request has one."""
    if "session" not in conn.scope:
        return None
    value = conn.session.get("sid")
    return value if isinstance(value, str) and value else None


async def current_actor(
    request: Request,
    _token: str | None = Depends(oauth2),  # declares the bearer scheme in OpenAPI
    state: AppState = Depends(get_state),
) -> Actor:
    """The bearer token's user, or the signed-in page session's user."""
    return await actor_from_request(request, state)


def client_address(conn: HTTPConnection) -> str:
    """The client's address as the server saw it (a trusted proxy's X-Forwarded-For only
    when `HOTLINE_TRUSTED_PROXIES` names that proxy: cli/programs.py)."""
    return conn.client.host if conn.client else "unknown"


async def public_rate_limit(request: Request) -> None:
    """Dependency of the routes anyone may call without signing in."""
    state: AppState = request.app.state.hotline
    await state.public.hit(client_address(request))
