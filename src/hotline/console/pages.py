"""The live case board (`/`): the user's cases, the week's figures for hotline staff, and for
call takers their availability and the caller's card while on a call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.agents.service import find_agent, takes_calls
from hotline.auth import service as auth
from hotline.auth.permissions import Permission, allows
from hotline.calls.service import call_context
from hotline.cases.queries import CaseFilter, list_cases
from hotline.cases.transitions import CHANNEL_LABELS_VI, STATUS_LABELS_VI
from hotline.db import utcnow
from hotline.directory.service import list_categories
from hotline.reports.service import board_summary
from hotline.web.deps import get_state
from hotline.web.page import csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


AGENT_STATUS_VI = {"available": "Sẵn sàng", "busy": "Bận", "away": "Vắng mặt"}


@router.get("/", response_class=HTMLResponse)
async def board(request: Request, state: StateDep) -> Response:
    async with state.unit_of_work() as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        if actor.unit_scoped and not allows(actor, Permission.HANDLE_CASES):
            # A unit officer's work is the unit's inbox (cases/pages.py).
            return RedirectResponse("/inbox", status_code=303)
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
        "console/board.html",
        {
            "user": user,
            "cases": page.items,
            "report": report,
            "labels": STATUS_LABELS_VI,
            "channels": CHANNEL_LABELS_VI,
            "categories": categories,
            "csrf": csrf_token(request),
            "tz": state.site.timezone,
            "takes_calls": takes_calls(user),
            "agent_status": agent.status.value if agent else "away",
            "statuses": AGENT_STATUS_VI,
            "on_call": on_call,
            "nav": nav_for(actor),
        },
    )
