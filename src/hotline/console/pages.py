"""The operator console (`/`): the live case list with its filters, the operator's
availability and callbacks waiting, and the keyboard-first new-case form that a call answered
by the line opens. The form and the buttons talk to the JSON API (web/static/console/);
the list is an HTML fragment of the same case query the API uses."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.service import find_agent, takes_calls
from hotline.auth import service as auth
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.calls.line_queue import read_line_queue
from hotline.calls.service import call_context
from hotline.cases.medical import CONSOLE_PURPOSE
from hotline.cases.queries import UNCATEGORISED, CaseFilter, count_cases, list_cases
from hotline.channels import threads
from hotline.console.listquery import ListQuery
from hotline.db import utcnow
from hotline.directory.service import category_names, get_unit, get_ward, list_categories
from hotline.errors import DomainError, InvalidInput
from hotline.reports.service import board_summary
from hotline.staffing.views import open_clock
from hotline.web.deps import get_state
from hotline.web.i18n import language_of
from hotline.web.inputs import TakesItsQuery
from hotline.web.page import csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__, "channels")
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]

LIST_SIZE = 50
MAX_LIST = 200


async def _case_rows(
    session: AsyncSession,
    actor: Actor,
    filters: CaseFilter,
    *,
    language: str,
    cursor: str | None = None,
    limit: int = LIST_SIZE,
    shown: int = 0,
) -> dict[str, object]:
    """One page of the list (after `cursor`, `shown` rows already on screen), with how many
    cases the filters select in all; categories named in `language`."""
    page = await list_cases(
        session,
        actor=actor,
        filters=filters,
        cursor=cursor,
        limit=limit,
        read_purpose=CONSOLE_PURPOSE,
    )
    overdue = {c.code for c in page.items} if filters.overdue else set()
    if page.items and not filters.overdue:
        # Which of the shown cases have an overdue forwarding: the same rule as ?overdue=true.
        late_filters = replace(filters, overdue=True)
        # Only the codes are used: no read of what the cases say.
        late = await list_cases(
            session, actor=actor, filters=late_filters, cursor=cursor, limit=200, read_purpose=None
        )
        overdue = {c.code for c in late.items}
    categories = await category_names(session, language=language)
    return {
        "cases": page.items,
        "overdue": overdue,
        "categories": categories,
        "next_cursor": page.next_cursor,
        "total": await count_cases(session, actor=actor, filters=filters),
        "shown": shown + len(page.items),
    }


def _number(raw: str | None, low: int, high: int, default: int) -> int:
    try:
        return max(low, min(high, int(raw or default)))
    except ValueError:
        return default


@router.get("/", response_class=HTMLResponse)
async def board(request: Request, state: StateDep, _: TakesItsQuery) -> Response:
    async with state.unit_of_work() as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        if allows(actor, Permission.FOLLOW_PATIENTS) and not allows(actor, Permission.HANDLE_CASES):
            # A doctor's work is their patients at home (care/pages/doctor.py).
            return RedirectResponse("/care", status_code=303)
        if actor.unit_scoped and not allows(actor, Permission.HANDLE_CASES):
            # A unit officer's work is the unit's inbox (cases/pages/__init__.py).
            return RedirectResponse("/inbox", status_code=303)
        user = await auth.get_user(session, actor.user_id)
        # The list the address names (a dashboard figure's link), else what nobody holds yet.
        query = ListQuery.parse(request.query_params.getlist)
        language = language_of(request)
        list_error = ""
        try:
            names = await _names(session, query)
            rows = await _case_rows(session, actor, query.filters(actor), language=language)
        except DomainError as exc:
            # What the address names is refused by the list itself: the list it opens
            # with, still saying what else it left out.
            list_error, query = exc.detail, ListQuery(errors=query.errors)
            rows = await _case_rows(session, actor, query.filters(actor), language=language)
            names = {}
        now = utcnow()
        today = state.site.local(now).date()
        # Callers on hold in the phone line's queues (hotline staff; kept live by the stream).
        line_queue = None
        if allows(actor, Permission.RECORD_CALLS):
            line_queue = await read_line_queue(session, actor=actor, now=now)
        categories = await list_categories(session)
        # The messages panel, for those who may read citizens' conversations: its rows come
        # from /console/conversations once the page is up (each listed citizen is a read).
        inbox = None
        if allows(actor, Permission.READ_CONTACTS):
            inbox = {"channels": await threads.inbox_channels(session, actor=actor)}
        report = await board_summary(session, actor=actor, today=today)
        # The phone: this user's availability, and the caller's card while on a call.
        agent, on_call, clock = None, None, None
        if takes_calls(user):
            agent = await find_agent(session, user_id=user.id)
            # Clocked in on the roster ("Vào ca / Hết ca", staffing/pages/board.py).
            clock = await open_clock(session, actor=actor)
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
            "clock": clock,
            "on_call": on_call,
            "line_queue": line_queue,
            "inbox": inbox,
            "now": now,
            "query": query,
            "names": names,
            "list_error": list_error,
            # The stream resumes from here: an event between this page and the stream's
            # opening (a call answered meanwhile) is not lost.
            "last_event": state.feed.last,
            "nav": nav_for(actor),
        },
    )


async def _names(session: AsyncSession, query: ListQuery) -> dict[str, str]:
    """The ward and unit a link names, as the page shows them; an unknown ward, unit or
    category is left out of the query and named in its errors."""
    names = {}
    if query.ward:
        try:
            names["ward"] = (await get_ward(session, query.ward, field="ward")).name
        except InvalidInput:
            query.drop("ward", query.ward)
    if query.unit is not None:
        try:
            names["unit"] = (await get_unit(session, query.unit, field="unit")).name
        except InvalidInput:
            query.drop("unit", str(query.unit))
    if query.category and query.category != UNCATEGORISED:
        known = {c.code for c in await list_categories(session, include_inactive=True)}
        if query.category not in known:
            query.drop("category", query.category)
    return names


@router.get("/console/cases", response_class=HTMLResponse)
async def case_rows(request: Request, state: StateDep, _: TakesItsQuery) -> Response:
    """The list's rows for the view and filters of the query (the page's form, with the names
    of a link it was opened with); refreshed by the page on live case events. `cursor` gives
    the next page ("Xem thêm"), `shown` the rows already on screen (for the count)."""
    query = ListQuery.parse(request.query_params.getlist)
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return Response(status_code=401)
        params = request.query_params
        try:
            rows = await _case_rows(
                session,
                actor,
                query.filters(actor),
                language=language_of(request),
                cursor=params.get("cursor") or None,
                # A refresh keeps the rows loaded with "Xem thêm" (up to a page of 200).
                limit=_number(params.get("limit"), 1, MAX_LIST, LIST_SIZE),
                shown=_number(params.get("shown"), 0, 10**9, 0),
            )
        except DomainError as exc:
            rows = {"cases": [], "overdue": set(), "categories": {}, "error": exc.detail}
    return templates.TemplateResponse(
        request, "console/_cases.html", {**rows, "tz": state.site.timezone}
    )
