"""The care coordinator's alerts (`/care/alerts`, its list at `/care/alerts/list` for the
live refresh), where `/care` sends care coordinators: patients whose latest check-in shows a
warning sign, with their urgent case (a link only for those who may open it), and check-ins
missed, newest first, and for coordinators the count of patients waiting for a doctor; kept
current by the `care.alert` events of the live stream (resumed from the page's last event
id, as the worklist is). Thin: care/alerts.py checks who may see what and logs the read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor, display_names
from hotline.care.access import sees_all
from hotline.care.alerts import current_alerts
from hotline.care.case_refs import case_refs
from hotline.care.followup import count_waiting
from hotline.care.pages.doctor import base_context, signed_in
from hotline.cases.transitions import STATUS_LABELS_VI
from hotline.db import utcnow
from hotline.web.deps import get_state
from hotline.web.page import templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


async def _alerts(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    alerts = await current_alerts(session, actor=actor)
    names = await display_names(session, {a.doctor_id for a in alerts if a.doctor_id})
    # An urgent case is a link only for those the cases service lets open it.
    cases = await case_refs(session, actor=actor, codes=[a.case_code for a in alerts])
    return {"alerts": alerts, "names": names, "case_refs": cases, "case_labels": STATUS_LABELS_VI}


@router.get("/care/alerts", response_class=HTMLResponse)
async def alerts_page(request: Request, state: StateDep) -> Response:
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        context = {
            **await base_context(request, state, session, actor),
            **await _alerts(session, actor),
            # Coordinators land here: the patients waiting for a doctor need them too.
            "waiting": await count_waiting(session, actor=actor) if sees_all(actor) else None,
            # The stream resumes from here: an alert between this page and the stream's
            # opening is not lost.
            "last_event": state.feed.last,
        }
    return templates.TemplateResponse(request, "care/alerts.html", context)


@router.get("/care/alerts/list", response_class=HTMLResponse)
async def alerts_list(request: Request, state: StateDep) -> Response:
    """The alerts alone, fetched again by the page when a `care.alert` arrives."""
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        context = {"tz": state.site.timezone, "now": utcnow(), **await _alerts(session, actor)}
    return templates.TemplateResponse(request, "care/_alerts.html", context)
