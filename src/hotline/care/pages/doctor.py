"""The doctor's worklist (`/care`, its rows at `/care/worklist` for the live refresh; care
coordinators are sent on to their alerts) and
the list of followed patients (`/care/patients`, everyone for supervisors, with a tab of
the patients waiting for a doctor). Thin: what a
user sees comes from care/service.py, which checks and logs every read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor, display_names, get_user
from hotline.care import service
from hotline.care.access import may_follow, sees_all
from hotline.care.doctors import list_doctors
from hotline.care.followup import count_waiting
from hotline.care.models import SlotState
from hotline.db import utcnow
from hotline.web.deps import get_state
from hotline.web.page import csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]

STATUSES = ("F0", "F1")
STATES = ("active", "admitted", "ended")
TIERS = ("red", "orange", "yellow", "green")
OPEN_SLOTS = (SlotState.DUE, SlotState.REMINDED)


async def signed_in(request: Request, state: AppState, session: AsyncSession) -> Actor | None:
    actor = await page_actor(request, state, session)
    return actor if actor is not None and actor.user_id is not None else None


async def base_context(
    request: Request, state: AppState, session: AsyncSession, actor: Actor
) -> dict[str, Any]:
    assert actor.user_id is not None
    return {
        "user": await get_user(session, actor.user_id),
        "csrf": csrf_token(request),
        "nav": nav_for(actor),
        "tz": state.site.timezone,
        "now": utcnow(),
        "open_slots": OPEN_SLOTS,
    }


async def _rows(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    items = await service.worklist(session, actor=actor)
    return {
        "items": items,
        "counts": {
            "patients": len(items),
            "high": sum(
                1 for i in items if (i.view.patient.last_result or {}).get("risk") == "high"
            ),
            "due": sum(1 for i in items for s in i.due if s.state in OPEN_SLOTS),
            "missed": sum(i.missed for i in items),
        },
    }


@router.get("/care", response_class=HTMLResponse)
async def worklist_page(request: Request, state: StateDep) -> Response:
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        may_follow(actor)
        if sees_all(actor):
            # Care coordinators follow no patient themselves: their work is what needs
            # action now, the alerts (with the patients waiting for a doctor on top).
            return RedirectResponse("/care/alerts", status_code=303)
        context = {
            **await base_context(request, state, session, actor),
            **await _rows(session, actor),
            # The stream resumes from here: an alert between this page and the stream's
            # opening is not lost.
            "last_event": state.feed.last,
        }
    return templates.TemplateResponse(request, "care/worklist.html", context)


@router.get("/care/worklist", response_class=HTMLResponse)
async def worklist_rows(request: Request, state: StateDep) -> Response:
    """The worklist's table alone, fetched again by the page when an alert or a reminder
    for this doctor arrives on the live stream."""
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        context = {
            "tz": state.site.timezone,
            "now": utcnow(),
            "open_slots": OPEN_SLOTS,
            **await _rows(session, actor),
        }
    return templates.TemplateResponse(request, "care/_worklist.html", context)


def _filters(request: Request) -> tuple[service.PatientFilter, dict[str, str]]:
    """The list's filters from the address; a value the form does not offer is left out."""
    q = request.query_params
    chosen = {
        "status": q.get("status", "") if q.get("status") in STATUSES else "",
        "state": q.get("state", "") if q.get("state") in STATES else "",
        "tier": q.get("tier", "") if q.get("tier") in TIERS else "",
        # isascii: "²".isdigit() is true, and int() refuses it.
        "doctor": q.get("doctor", "") if _ascii_digits(q.get("doctor", "")) else "",
        "ward": q.get("ward", "").strip()[:10],
        "unassigned": "1" if q.get("unassigned") == "1" else "",
    }
    filters = service.PatientFilter(
        status=chosen["status"] or None,
        state=chosen["state"] or None,
        tier=chosen["tier"] or None,
        doctor_id=int(chosen["doctor"])
        if chosen["doctor"] and len(chosen["doctor"]) < 19
        else None,
        ward_code=chosen["ward"] or None,
        unassigned=bool(chosen["unassigned"]),
    )
    return filters, chosen


@router.get("/care/patients", response_class=HTMLResponse)
async def patients_page(request: Request, state: StateDep) -> Response:
    filters, chosen = _filters(request)
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        context = await base_context(request, state, session, actor)
        views = await service.list_patients(session, actor=actor, filters=filters, limit=200)
        doctors = await list_doctors(session, actor=actor) if sees_all(actor) else []
        waiting = await count_waiting(session, actor=actor) if sees_all(actor) else 0
        names = await display_names(
            session,
            {d.user_id for d in doctors}
            | {v.patient.doctor_id for v in views if v.patient.doctor_id},
        )
        context.update(
            views=views,
            chosen=chosen,
            doctors=doctors,
            names=names,
            sees_all=sees_all(actor),
            waiting=waiting,
            waiting_tab=chosen["unassigned"] == "1" and chosen["state"] == "active",
            statuses=STATUSES,
            states=STATES,
            tiers=TIERS,
        )
    return templates.TemplateResponse(request, "care/patients.html", context)


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
