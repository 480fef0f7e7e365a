"""Signing in and out of the staff pages (a page session in the signed cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.auth import service as auth
from hotline.errors import Unauthenticated
from hotline.messages import msg
from hotline.web.deps import client_address, get_state, page_session_id
from hotline.web.i18n import COOKIE, LANGUAGES
from hotline.web.page import csrf_matches, csrf_token, templates_for
from hotline.web.ratelimit import TooManyAttempts
from hotline.web.signin import check_credentials
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "auth/login.html", {"csrf": csrf_token(request), "errors": {}, "username": ""}
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
        errors["form"] = msg("Phiên làm việc đã hết hạn, vui lòng thử lại.")
    if not username.strip():
        errors["username"] = msg("Vui lòng nhập tên đăng nhập.")
    if not password:
        errors["password"] = msg("Vui lòng nhập mật khẩu.")
    client = client_address(request)
    status = 400
    if not errors:
        try:
            user_id = await check_credentials(
                state, client=client, username=username, password=password
            )
            async with state.unit_of_work() as session:
                user = await auth.signed_in_user(session, user_id=user_id)
                if (previous := page_session_id(request)) is not None:
                    await auth.end_page_session(session, session_id=previous)
                session_id = await auth.open_page_session(
                    session,
                    user=user,
                    user_agent=request.headers.get("user-agent", ""),
                    ip=client,
                )
            request.session.clear()
            request.session["sid"] = session_id
            return RedirectResponse("/", status_code=303)
        except Unauthenticated as exc:
            errors["password"] = exc.detail
        except TooManyAttempts as exc:
            errors["form"], status = exc.detail, 429
    return templates.TemplateResponse(
        request,
        "auth/login.html",
        {"csrf": csrf_token(request), "errors": errors, "username": username},
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


@router.post("/lang")
async def choose_language(
    request: Request,
    lang: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Remember the pages' language in a cookie (a year), then go back to the page."""
    # Only a path of this site: never a redirect elsewhere ("//host", "/\\host").
    back = next if next.startswith("/") and not next.startswith(("//", "/\\")) else "/"
    response = RedirectResponse(back, status_code=303)
    if csrf_matches(request, csrf) and lang in LANGUAGES:
        response.set_cookie(
            COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=request.app.state.hotline.settings.secure_cookies,
            httponly=True,
        )
    return response
