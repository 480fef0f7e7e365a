"""HTML pages: sign-in and the live case board. The full workspace comes later."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.service import find_agent, set_status, takes_calls
from hotline.auth import service as auth
from hotline.auth.service import Actor
from hotline.calls.service import call_context
from hotline.cases.queries import CaseFilter, list_cases
from hotline.cases.transitions import CHANNEL_LABELS_VI, STATUS_LABELS_VI
from hotline.db import utcnow
from hotline.directory.service import list_categories
from hotline.errors import Unauthenticated
from hotline.reports.service import board_summary
from hotline.web.deps import client_address, get_state, page_session_id
from hotline.web.ratelimit import TooManyAttempts
from hotline.web.state import AppState

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


AGENT_STATUS_VI = {"available": "Sẵn sàng", "busy": "Bận", "away": "Vắng mặt"}


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


@router.get("/api/v1/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> Response:
    """Swagger UI from the package's own copy (web/static/swagger-ui): works offline and
    under the CSP (no CDN, no inline script)."""
    return templates.TemplateResponse(request, "api_docs.html", {})


def csrf_matches(request: Request, sent: str) -> bool:
    """The form's token is the session's. A session without one matches nothing: an empty
    form field against an empty session is how a cross-site form would get through."""
    expected = str(request.session.get("csrf") or "")
    return bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"csrf": _csrf(request), "errors": {}, "username": ""}
    )


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    state: StateDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    if not csrf_matches(request, csrf):
        errors["form"] = "Phiên làm việc đã hết hạn, vui lòng thử lại."
    if not username.strip():
        errors["username"] = "Vui lòng nhập tên đăng nhập."
    if not password:
        errors["password"] = "Vui lòng nhập mật khẩu."
    client = client_address(request)
    status = 400
    if not errors:
        try:
            await state.logins.check(client, username)
            async with state.unit_of_work() as session:
                user = await auth.authenticate(session, username=username, password=password)
                if (previous := page_session_id(request)) is not None:
                    await auth.end_page_session(session, session_id=previous)
                session_id = await auth.open_page_session(
                    session,
                    user=user,
                    user_agent=request.headers.get("user-agent", ""),
                    ip=client,
                )
            await state.logins.succeeded(client, username)
            request.session.clear()
            request.session["sid"] = session_id
            return RedirectResponse("/", status_code=303)
        except Unauthenticated as exc:
            await state.logins.failed(client, username)
            errors["password"] = exc.detail
        except TooManyAttempts as exc:
            errors["form"], status = exc.detail, 429
    return templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": _csrf(request), "errors": errors, "username": username},
        status_code=status,
    )


@router.post("/logout")
async def logout(request: Request, state: StateDep, csrf: Annotated[str, Form()] = "") -> Response:
    # A cross-site form must not be able to sign staff out in the middle of a call.
    if csrf_matches(request, csrf):
        if (session_id := page_session_id(request)) is not None:
            async with state.unit_of_work() as session:
                await auth.end_page_session(session, session_id=session_id)
            state.tokens.note_revocation()  # this process's live streams re-check at once
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def _page_actor(request: Request, state: AppState, session: AsyncSession) -> Actor | None:
    """The signed-in user of a page request (same rule as current_actor), or None after
    clearing a cookie whose session has ended."""
    session_id = page_session_id(request)
    if session_id is None:
        return None
    try:
        return await auth.actor_for_page_session(
            session, session_id=session_id, ttl_hours=state.settings.session_ttl_hours
        )
    except Unauthenticated:
        request.session.clear()
        return None


@router.get("/", response_class=HTMLResponse)
async def board(request: Request, state: StateDep) -> Response:
    async with state.unit_of_work() as session:
        actor = await _page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        user = await auth.get_user(session, actor.user_id)
        page = await list_cases(session, actor=actor, filters=CaseFilter(), cursor=None, limit=30)
        today = state.site.local(utcnow()).date()
        categories = {
            c.code: c.name_vi for c in await list_categories(session, include_inactive=True)
        }
        report = await board_summary(session, actor=actor, today=today)
        # The phone: this user's availability, and the caller's card while on a call.
        agent, on_call = None, None
        if takes_calls(user):
            agent = await find_agent(session, user_id=user.id)
            if agent is not None and agent.current_call_id is not None:
                on_call = await call_context(
                    session, call_id=agent.current_call_id, reader_id=user.id
                )
    return templates.TemplateResponse(
        request,
        "board.html",
        {
            "user": user,
            "cases": page.items,
            "report": report,
            "labels": STATUS_LABELS_VI,
            "channels": CHANNEL_LABELS_VI,
            "categories": categories,
            "csrf": _csrf(request),
            "tz": state.site.timezone,
            "takes_calls": takes_calls(user),
            "agent_status": agent.status.value if agent else "away",
            "statuses": AGENT_STATUS_VI,
            "on_call": on_call,
        },
    )


@router.post("/agent-status")
async def agent_status(
    request: Request,
    state: StateDep,
    status: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The board's available / busy / away buttons (the same rule as the API)."""
    if not csrf_matches(request, csrf):
        return RedirectResponse("/login", status_code=303)
    async with state.unit_of_work() as session:
        actor = await _page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        await set_status(session, user_id=actor.user_id, status=status)
    return RedirectResponse("/", status_code=303)
