"""The operator console (`/`): the live case list with its filters, the operator's
availability and callbacks waiting, and the keyboard-first new-case form that a call answered
by the line opens. The form and the buttons talk to the JSON API (web/static/console/);
the list is an HTML fragment of the same case query the API uses."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.service import find_agent, takes_calls
from hotline.auth import service as auth
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.calls.line_queue import read_line_queue
from hotline.calls.service import call_context
from hotline.cases.queries import CaseFilter, list_cases
from hotline.db import utcnow
from hotline.directory.service import list_categories
from hotline.reports.service import board_summary
from hotline.web.deps import get_state
from hotline.web.page import csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]

# What the list shows by default: what nobody holds yet.
VIEWS = ("new", "mine", "overdue", "all")
LIST_SIZE = 50


def _filters(
    actor: Actor, view: str, status: str, category: str, channel: str, ward: str
) -> CaseFilter:
    """The console's view and filters as the case query's filter (the API's own)."""
    filters = CaseFilter(
        status=[status] if status else None,
        category=category or None,
        channel=channel or None,
        ward_code=ward or None,
    )
    if view == "new" and not status:
        filters.status = ["new"]
    elif view == "mine":
        filters.assignee_id = actor.user_id if actor.user_id is not None else -1
    elif view == "overdue":
        filters.overdue = True
    return filters


async def _case_rows(session: AsyncSession, actor: Actor, filters: CaseFilter) -> dict[str, object]:
    page = await list_cases(session, actor=actor, filters=filters, cursor=None, limit=LIST_SIZE)
    overdue = {c.code for c in page.items} if filters.overdue else set()
    if page.items and not filters.overdue:
        # Which of the shown cases have an overdue forwarding: the same rule as ?overdue=true.
        late_filters = replace(filters, overdue=True)
        late = await list_cases(session, actor=actor, filters=late_filters, cursor=None, limit=200)
        overdue = {c.code for c in late.items}
    categories = {c.code: c.name_vi for c in await list_categories(session, include_inactive=True)}
    return {"cases": page.items, "overdue": overdue, "categories": categories}


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
        rows = await _case_rows(session, actor, _filters(actor, "new", "", "", "", ""))
        now = utcnow()
        today = state.site.local(now).date()
        # Callers on hold in the phone line's queues (hotline staff; kept live by the stream).
        line_queue = None
        if allows(actor, Permission.RECORD_CALLS):
            line_queue = await read_line_queue(session, actor=actor, now=now)
        categories = await list_categories(session)
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
            **rows,
            "user": user,
            "report": report,
            "category_list": categories,
            "csrf": csrf_token(request),
            "tz": state.site.timezone,
            "takes_calls": takes_calls(user),
            "agent_status": agent.status.value if agent else "away",
            "on_call": on_call,
            "line_queue": line_queue,
            "now": now,
            "view": "new",
            # The stream resumes from here: an event between this page and the stream's
            # opening (a call answered meanwhile) is not lost.
            "last_event": state.feed.last,
            "nav": nav_for(actor),
        },
    )


@router.get("/console/cases", response_class=HTMLResponse)
async def case_rows(
    request: Request,
    state: StateDep,
    view: Annotated[str, Query(max_length=10)] = "new",
    status: Annotated[str, Query(max_length=20)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    ward: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The list's rows for a view and filters; refreshed by the page on live case events."""
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return Response(status_code=401)
        view = view if view in VIEWS else "new"
        filters = _filters(actor, view, status, category, channel, ward)
        rows = await _case_rows(session, actor, filters)
    return templates.TemplateResponse(
        request, "console/_cases.html", {**rows, "tz": state.site.timezone}
    )
