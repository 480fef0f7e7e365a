"""The board's available / busy / away buttons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.agents.service import set_status
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
    """The same rule as the API (agents.service.set_status)."""
    if not csrf_matches(request, csrf):
        return RedirectResponse("/login", status_code=303)
    async with state.unit_of_work() as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        await set_status(session, user_id=actor.user_id, status=status)
    return RedirectResponse("/", status_code=303)
