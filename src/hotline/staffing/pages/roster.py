"""The lead's roster forms on the staffing page: put someone on a shift, picked by name
(service.assign, as `POST /api/v1/roster`), take a place off (service.unassign, as
`DELETE /api/v1/roster/{id}`), copy the week shown onto the next or the week before into
the week shown (roster_edit.copy_week, as `POST /api/v1/roster/copy-week`). The service's
refusals (an ended shift, someone who may not hold a place) are shown next to the field
they name, on the week the form was on."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.messages import msg
from hotline.staffing import roster_edit, service, swaps
from hotline.staffing.pages.board import BAD_DATE, NOT_A_NUMBER, StateDep, _act
from hotline.staffing.views import week_of
from hotline.types import Id
from hotline.web.inputs import FormRefusals, without_nul

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
PICK_SOMEONE = msg("Chọn một người trong danh sách")


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _week(raw: str) -> str:
    """The day whose week a form was on, when it is one (else the page's default)."""
    return raw if _day(raw) is not None else ""


def _back(week: str, done: str, **more: str) -> str:
    """The page after a form: on the week it was on, with its notice."""
    query = {"date": week} if week else {}
    return "/staffing?" + urlencode({**query, "done": done, **more}) + "#roster"


def _person(raw: str) -> tuple[int | None, int | None] | None:
    """A person picked in the list: `u<id>` a call taker's account, `v<id>` a volunteer's
    offer; a bare number is an account's id (as the API takes it)."""
    kind, number = (raw[0], raw[1:]) if raw[:1] in ("u", "v") else ("u", raw)
    n = _number(number)
    if n is None:
        return None
    return (n, None) if kind == "u" else (None, n)


@router.post("/staffing/roster", response_class=HTMLResponse)
async def assign(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    day: FormText = "",
    shift_id: FormText = "",
    person: FormText = "",
    user_id: FormText = "",
    week: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Put a call taker or an approved volunteer on a shift of a day (supervisors)."""
    picked = without_nul(person or user_id).strip()
    typed = {
        "roster-day": without_nul(day).strip(),
        "roster-shift_id": without_nul(shift_id).strip(),
        "roster-person": picked,
    }
    week = _week(without_nul(week).strip())
    early: dict[str, Any] = {"roster": next(iter(refused.values()))} if refused else {}
    when = _day(typed["roster-day"])
    if when is None:
        early.setdefault("roster-day", BAD_DATE)
    shift = _number(typed["roster-shift_id"])
    if shift is None:
        early.setdefault("roster-shift_id", NOT_A_NUMBER)
    who = _person(picked)
    if who is None:
        early.setdefault("roster-person", PICK_SOMEONE)

    async def action(session: AsyncSession, actor: Actor) -> None:
        assert when is not None and shift is not None and who is not None
        await service.assign(
            session,
            actor=actor,
            day=when,
            shift_id=shift,
            user_id=who[0],
            volunteer_id=who[1],
            horizon_weeks=state.settings.staffing_self_roster_weeks,
        )

    return await _act(
        request,
        state,
        csrf=csrf,
        key="roster",
        action=action,
        done="roster_assign",
        typed=typed,
        early=early or None,
        fields=frozenset({"day", "shift_id", "user_id", "volunteer_id"}),
        aliases={"user_id": "person", "volunteer_id": "person"},
        week=week,
        # The week of the day placed, where the place is seen (the form may name a day
        # of another week than the one it was on).
        to=_back(when.isoformat() if when else week, "roster_assign", shift=str(shift)),
    )


@router.post("/staffing/roster/{entry_id}/remove", response_class=HTMLResponse)
async def unassign(
    request: Request, state: StateDep, entry_id: Id, week: FormText = "", csrf: FormText = ""
) -> Response:
    """Take a place off a shift not yet over (supervisors); a refusal goes above the week."""
    week = _week(without_nul(week).strip())

    async def action(session: AsyncSession, actor: Actor) -> None:
        await service.unassign(session, actor=actor, entry_id=entry_id)

    return await _act(
        request,
        state,
        csrf=csrf,
        key="roster-grid",
        action=action,
        done="roster_remove",
        week=week,
        to=_back(week, "roster_remove"),
    )


@router.post("/staffing/roster/copy-week", response_class=HTMLResponse)
async def copy_week(
    request: Request, state: StateDep, source: FormText = "", csrf: FormText = ""
) -> Response:
    """Copy the week of `source` onto the next one (supervisors): nothing there is
    overwritten; the page of the next week then says what was copied and skipped."""
    raw = without_nul(source).strip()
    first = _day(raw)
    early = {"copy": BAD_DATE} if first is None else None
    monday = week_of(first) if first else None
    report: list[roster_edit.CopyReport] = []

    async def action(session: AsyncSession, actor: Actor) -> None:
        assert monday is not None
        report.append(
            await roster_edit.copy_week(
                session, actor=actor, source=monday, target=monday + timedelta(days=7)
            )
        )

    def to() -> str:
        assert monday is not None
        return _copied(monday + timedelta(days=7), report[0])

    return await _act(
        request,
        state,
        csrf=csrf,
        key="copy",
        action=action,
        done="roster_copy",
        early=early,
        week=raw if first else "",
        fields=frozenset({"target", "source"}),
        aliases={"target": "week", "source": "week"},
        to=to,
    )


def _copied(target: date, r: roster_edit.CopyReport) -> str:
    """The target week's page, saying what the copy added and skipped."""
    counts = {
        "date": target.isoformat(),
        "done": "roster_copy",
        "copied": r.copied,
        "already": r.already,
        "ended": r.ended,
        "not_rosterable": r.not_rosterable,
        "same_person": r.same_person,
    }
    return "/staffing?" + urlencode(counts) + "#roster"


@router.post("/staffing/roster/copy-last-week", response_class=HTMLResponse)
async def copy_last_week(
    request: Request, state: StateDep, week: FormText = "", csrf: FormText = ""
) -> Response:
    """Copy the week before the one of `week` into it (supervisors): the current week
    started from the last one, its shifts already over skipped; a week all past is
    refused by the service (shown next to the form)."""
    raw = without_nul(week).strip()
    first = _day(raw)
    early = {"copy-last": BAD_DATE} if first is None else None
    monday = week_of(first) if first else None
    report: list[roster_edit.CopyReport] = []

    async def action(session: AsyncSession, actor: Actor) -> None:
        assert monday is not None
        report.append(
            await roster_edit.copy_week(
                session, actor=actor, source=monday - timedelta(days=7), target=monday
            )
        )

    def to() -> str:
        assert monday is not None
        return _copied(monday, report[0])

    return await _act(
        request,
        state,
        csrf=csrf,
        key="copy-last",
        action=action,
        done="roster_copy",
        early=early,
        week=raw if first else "",
        to=to,
    )


@router.post("/staffing/roster/{entry_id}/swap", response_class=HTMLResponse)
async def request_swap(
    request: Request,
    state: StateDep,
    entry_id: Id,
    to_user_id: FormText = "",
    reason: FormText = "",
    week: FormText = "",
    csrf: FormText = "",
) -> Response:
    """A call taker asks to hand one of their places to a colleague (swaps.request_swap,
    as `POST /api/v1/roster/{id}/swaps`); a supervisor decides it."""
    week = _week(without_nul(week).strip())
    key = f"swapask-{entry_id}"
    colleague = _number(without_nul(to_user_id).strip())
    why = without_nul(reason)
    early = {f"{key}-to_user_id": PICK_SOMEONE} if colleague is None else None

    async def action(session: AsyncSession, actor: Actor) -> None:
        assert colleague is not None
        await swaps.request_swap(
            session, actor=actor, entry_id=entry_id, to_user_id=colleague, reason=why
        )

    return await _act(
        request,
        state,
        csrf=csrf,
        key=key,
        action=action,
        done="swap_request",
        early=early,
        typed={f"{key}-reason": why},
        week=week,
        fields=frozenset({"to_user_id", "reason", "entry_id"}),
        to=_back(week, "swap_request"),
    )
