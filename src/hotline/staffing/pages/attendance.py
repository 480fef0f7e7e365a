"""The lead's forms for who works off the roster and the shift templates, on the staffing
page: off-shift leave for a call taker (service.allow_off_shift, as `PUT
/api/v1/roster/off-shift`; 0 minutes ends it), clocking out someone who left without
doing it (service.clock_out_for, as `POST /api/v1/roster/clock-out`), and a shift
template's name, start, length and heads (service.save_shift, as `PUT /api/v1/shifts`:
the service decides which places the new times apply to)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.errors import NotFound
from hotline.messages import msg
from hotline.staffing import service
from hotline.staffing.models import ShiftTemplate
from hotline.staffing.pages.board import NOT_A_NUMBER, StateDep, _act
from hotline.types import Id
from hotline.web.inputs import FormRefusals, without_nul

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
PICK_SOMEONE = msg("Chọn một người trong danh sách")
LONG_NAME = msg("Tên ca dài tối đa 80 ký tự")


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.post("/staffing/leave", response_class=HTMLResponse)
async def give_leave(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    user_id: FormText = "",
    minutes: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Let a call taker work off the roster for some minutes, or end it with 0."""
    typed = {
        "leave-user_id": without_nul(user_id).strip(),
        "leave-minutes": without_nul(minutes).strip(),
        "leave-reason": without_nul(reason).strip(),
    }
    early: dict[str, Any] = {"leave": next(iter(refused.values()))} if refused else {}
    person, span = _number(typed["leave-user_id"]), _number(typed["leave-minutes"])
    if person is None:
        early.setdefault("leave-user_id", PICK_SOMEONE)
    if span is None:
        early.setdefault("leave-minutes", NOT_A_NUMBER)

    async def action(session: AsyncSession, actor: Actor) -> str:
        assert person is not None and span is not None
        await service.allow_off_shift(
            session, actor=actor, user_id=person, minutes=span, reason=typed["leave-reason"][:200]
        )
        return "attendance_leave" if span else "attendance_end"

    return await _act(
        request,
        state,
        csrf=csrf,
        key="leave",
        action=action,
        done="attendance_leave",
        typed=typed,
        early=early or None,
        fields=frozenset({"user_id", "minutes", "reason"}),
    )


@router.post("/staffing/attendance/{user_id}/end-leave", response_class=HTMLResponse)
async def end_leave(
    request: Request, state: StateDep, user_id: Id, csrf: FormText = ""
) -> Response:
    """End someone's off-shift leave now (the leave form's 0 minutes, from their row)."""

    async def action(session: AsyncSession, actor: Actor) -> None:
        await service.allow_off_shift(session, actor=actor, user_id=user_id, minutes=0)

    return await _act(
        request, state, csrf=csrf, key="attendance", action=action, done="attendance_end"
    )


@router.post("/staffing/attendance/{user_id}/clock-out", response_class=HTMLResponse)
async def clock_out(
    request: Request, state: StateDep, user_id: Id, csrf: FormText = ""
) -> Response:
    """Clock out someone who left without doing it (supervisors)."""

    async def action(session: AsyncSession, actor: Actor) -> None:
        await service.clock_out_for(session, actor=actor, user_id=user_id)

    return await _act(
        request, state, csrf=csrf, key="attendance", action=action, done="attendance_out"
    )


@router.post("/staffing/shifts/{shift_id}", response_class=HTMLResponse)
async def save_shift(
    request: Request,
    state: StateDep,
    shift_id: Id,
    refused: FormRefusals,
    name: FormText = "",
    starts_at: FormText = "",
    hours: FormText = "",
    operators: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Change a shift template's name, start, length or heads (supervisors)."""
    key = f"shift-{shift_id}"
    typed = {
        f"{key}-name": without_nul(name).strip(),
        f"{key}-starts_at": without_nul(starts_at).strip(),
        f"{key}-hours": without_nul(hours).strip(),
        f"{key}-operators": without_nul(operators).strip(),
    }
    early: dict[str, Any] = {key: next(iter(refused.values()))} if refused else {}
    length, heads = _number(typed[f"{key}-hours"]), _number(typed[f"{key}-operators"])
    if len(typed[f"{key}-name"]) > 80:
        early.setdefault(f"{key}-name", LONG_NAME)
    if length is None:
        early.setdefault(f"{key}-hours", NOT_A_NUMBER)
    if heads is None:
        early.setdefault(f"{key}-operators", NOT_A_NUMBER)

    async def action(session: AsyncSession, actor: Actor) -> None:
        assert length is not None and heads is not None
        shift = await session.scalar(select(ShiftTemplate).where(ShiftTemplate.id == shift_id))
        if shift is None:
            raise NotFound("Không tìm thấy ca trực", field="shift_id")
        # By its code, as the API names a template; `active` is left as it is.
        await service.save_shift(
            session,
            actor=actor,
            code=shift.code,
            name=typed[f"{key}-name"],
            starts_at=typed[f"{key}-starts_at"],
            hours=length,
            operators=heads,
            active=shift.active,
        )

    return await _act(
        request,
        state,
        csrf=csrf,
        key=key,
        action=action,
        done="shifts_save",
        typed=typed,
        early=early or None,
        fields=frozenset({"name", "starts_at", "hours", "operators"}),
    )
