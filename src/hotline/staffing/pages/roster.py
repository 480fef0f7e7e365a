"""The lead's form on the staffing page that puts a call taker on a shift (service.assign,
as `POST /api/v1/roster`): the service's refusals (an ended shift, someone who may not hold
a place) are shown next to the field they name."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.staffing import service
from hotline.staffing.pages.board import BAD_DATE, NOT_A_NUMBER, StateDep, _act
from hotline.web.inputs import FormRefusals, without_nul

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@router.post("/staffing/roster", response_class=HTMLResponse)
async def assign(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    day: FormText = "",
    shift_id: FormText = "",
    user_id: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Put a call taker on a shift of a day (supervisors)."""
    typed = {
        "roster-day": without_nul(day).strip(),
        "roster-shift_id": without_nul(shift_id).strip(),
        "roster-user_id": without_nul(user_id).strip(),
    }
    early: dict[str, Any] = {"roster": next(iter(refused.values()))} if refused else {}
    try:
        when = date.fromisoformat(typed["roster-day"])
    except ValueError:
        early.setdefault("roster-day", BAD_DATE)
    shift, person = _number(typed["roster-shift_id"]), _number(typed["roster-user_id"])
    if shift is None:
        early.setdefault("roster-shift_id", NOT_A_NUMBER)
    if person is None:
        early.setdefault("roster-user_id", NOT_A_NUMBER)

    async def action(session: AsyncSession, actor: Actor) -> None:
        assert shift is not None and person is not None
        await service.assign(session, actor=actor, day=when, shift_id=shift, user_id=person)

    return await _act(
        request,
        state,
        csrf=csrf,
        key="roster",
        action=action,
        done="roster_assign",
        typed=typed,
        early=early or None,
        fields=frozenset({"day", "shift_id", "user_id"}),
    )
