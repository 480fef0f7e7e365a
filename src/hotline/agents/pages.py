"""The board's available / busy / away buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.errors import DomainError, NotAllowed
from hotline.staffing.availability import set_availability
from hotline.staffing.pages.board import clock_refusal
from hotline.web.deps import get_state
from hotline.web.page import csrf_matches, page_actor
from hotline.web.state import AppState

router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


@router.post("/agent-status")
async def agent_status(
    request: Request,
    state: StateDep,
    status: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The same rule as the API (staffing.availability.set_availability): refused, the
    staffing page says why next to its clock-in form."""
    if not csrf_matches(request, csrf):
        return RedirectResponse("/login", status_code=303)
    early = timedelta(minutes=state.settings.staffing_clock_in_early_minutes)
    try:
        async with state.unit_of_work() as session:
            actor = await page_actor(request, state, session)
            if actor is None or actor.user_id is None:
                return RedirectResponse("/login", status_code=303)
            await set_availability(session, actor=actor, status=status, early=early)
    except NotAllowed:
        raise
    except DomainError as exc:
        return await clock_refusal(request, state, exc)
    return RedirectResponse("/", status_code=303)
