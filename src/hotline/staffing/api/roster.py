"""Shift templates, the roster, clocking in and out, and the off-shift override."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from hotline.site import site_of
from hotline.staffing import roster_edit, service
from hotline.staffing.api.common import ActorDep, StateDep, StrictId
from hotline.staffing.models import ShiftTemplate
from hotline.types import Id

router = APIRouter(prefix="/api/v1", tags=["staffing"])


class ShiftIn(BaseModel):
    # The code and the start are checked by the service (staffing/checks.py), which refuses
    # them in the interface's language naming the field; a number is no time of day.
    code: Any = Field(json_schema_extra={"type": "string", "pattern": "^[a-z0-9_-]{1,20}$"})
    name: str = Field(max_length=80)
    starts_at: Any = Field(
        json_schema_extra={"type": "string", "format": "time", "examples": ["06:00"]}
    )
    hours: int = Field(strict=True, ge=1, le=24)
    operators: int = Field(strict=True, ge=0, le=1000)
    active: bool = Field(default=True, strict=True)


class ShiftOut(BaseModel):
    id: int
    code: str
    name: str
    # The site's wall-clock time with its offset (06:00:00+07:00), however it was given.
    starts_at: time
    timezone: str
    hours: int
    operators: int
    active: bool
    # Places on this shift not yet begun that retiring it removed (0 otherwise).
    places_removed: int = 0

    @classmethod
    def of(cls, s: ShiftTemplate, tz: ZoneInfo) -> ShiftOut:
        return cls(
            id=s.id,
            code=s.code,
            name=s.name,
            starts_at=service.with_site_offset(s.starts_at, tz),
            timezone=tz.key,
            hours=s.hours,
            operators=s.operators,
            active=s.active,
        )


@router.get("/shifts", response_model=list[ShiftOut])
async def list_shifts(actor: ActorDep, state: StateDep) -> list[ShiftOut]:
    async with state.unit_of_work(read_only=True) as session:
        tz = site_of(session).timezone
        return [ShiftOut.of(s, tz) for s in await service.list_shifts(session, actor=actor)]


@router.put("/shifts", response_model=ShiftOut)
async def save_shift(body: ShiftIn, actor: ActorDep, state: StateDep) -> ShiftOut:
    async with state.unit_of_work() as session:
        shift, removed = await service.save_shift_counting(
            session, actor=actor, **body.model_dump()
        )
        out = ShiftOut.of(shift, site_of(session).timezone)
        out.places_removed = removed
        return out


class PersonOut(BaseModel):
    entry_id: int
    user_id: int | None
    volunteer_id: int | None
    name: str


class ShiftDayOut(BaseModel):
    day: date
    shift_id: int
    code: str
    name: str
    start: datetime
    end: datetime
    needed: int
    rostered: int
    reachable: int
    people: list[PersonOut]


class RosterOut(BaseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    shifts: list[ShiftDayOut]


@router.get("/roster", response_model=RosterOut, response_model_by_alias=True)
async def read_roster(
    actor: ActorDep,
    state: StateDep,
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
) -> RosterOut:
    """Who works when: every shift of every day, with its people. Operators see their own
    places only, and how many people each shift has."""
    async with state.unit_of_work(read_only=True) as session:
        days = await service.read_roster(session, actor=actor, start=date_from, end=date_to)
        return RosterOut(
            date_from=date_from,
            date_to=date_to,
            shifts=[
                ShiftDayOut(
                    day=d.day,
                    shift_id=d.shift.id,
                    code=d.shift.code,
                    name=d.shift.name,
                    start=d.start,
                    end=d.end,
                    needed=d.shift.operators,
                    rostered=d.rostered,
                    reachable=d.agents,
                    people=[PersonOut(**vars(p)) for p in d.people],
                )
                for d in days
            ],
        )


class AssignIn(BaseModel):
    day: date
    shift_id: StrictId
    user_id: StrictId | None = None
    volunteer_id: StrictId | None = None


class EntryOut(BaseModel):
    id: int
    day: date
    shift_id: int
    user_id: int | None
    volunteer_id: int | None


@router.post("/roster", response_model=EntryOut, status_code=201)
async def assign(body: AssignIn, actor: ActorDep, state: StateDep) -> EntryOut:
    async with state.unit_of_work() as session:
        e = await service.assign(
            session,
            actor=actor,
            horizon_weeks=state.settings.staffing_self_roster_weeks,
            **body.model_dump(),
        )
        return EntryOut(
            id=e.id, day=e.day, shift_id=e.shift_id, user_id=e.user_id, volunteer_id=e.volunteer_id
        )


@router.delete("/roster/{entry_id}", status_code=204)
async def unassign(entry_id: Id, actor: ActorDep, state: StateDep) -> Response:
    async with state.unit_of_work() as session:
        await service.unassign(session, actor=actor, entry_id=entry_id)
    return Response(status_code=204)


class CopyWeekIn(BaseModel):
    source: date
    target: date


class CopySkipped(BaseModel):
    already_there: int  # the person already holds that place in the target week
    ended: int  # the shift is over (today's earlier shifts)
    not_rosterable: int  # no longer an active call taker, an offer not approved, a shift retired
    same_person: int  # on that shift already through their linked offer or account


class CopyWeekOut(BaseModel):
    added: int
    skipped: CopySkipped


@router.post("/roster/copy-week", response_model=CopyWeekOut)
async def copy_week(body: CopyWeekIn, actor: ActorDep, state: StateDep) -> CopyWeekOut:
    """Start a week from another: the places not there yet are added, nothing in the
    target week is overwritten; what was skipped is counted by reason."""
    async with state.unit_of_work() as session:
        r = await roster_edit.copy_week(
            session, actor=actor, source=body.source, target=body.target
        )
        return CopyWeekOut(
            added=r.copied,
            skipped=CopySkipped(
                already_there=r.already,
                ended=r.ended,
                not_rosterable=r.not_rosterable,
                same_person=r.same_person,
            ),
        )


class ClockIn(BaseModel):
    # A supervisor clocking in off the roster says why (recorded on the clock row).
    reason: str = Field(default="", max_length=200)


class ClockOut(BaseModel):
    user_id: int
    in_at: datetime
    out_at: datetime | None
    override_by: int | None
    override_reason: str


@router.post("/shifts/clock/{verb}", response_model=ClockOut)
async def clock(
    verb: Literal["in", "out"], actor: ActorDep, state: StateDep, body: ClockIn | None = None
) -> ClockOut:
    """Clock in (available on the line) or out (away). Clocking in needs a place on a
    shift running now or starting soon, or a supervisor's leave."""
    early = timedelta(minutes=state.settings.staffing_clock_in_early_minutes)
    async with state.unit_of_work() as session:
        row = await service.clock(
            session,
            actor=actor,
            clock_in=verb == "in",
            reason=body.reason if body else "",
            early=early,
        )
        return ClockOut(
            user_id=row.user_id,
            in_at=row.in_at,
            out_at=row.out_at,
            override_by=row.override_by,
            override_reason=row.override_reason or "",
        )


class ClockOutFor(BaseModel):
    user_id: StrictId


@router.post("/roster/clock-out", response_model=ClockOut)
async def clock_out_for(body: ClockOutFor, actor: ActorDep, state: StateDep) -> ClockOut:
    """Clock someone out who left without doing it (supervisors)."""
    async with state.unit_of_work() as session:
        row = await service.clock_out_for(session, actor=actor, user_id=body.user_id)
        return ClockOut(
            user_id=row.user_id,
            in_at=row.in_at,
            out_at=row.out_at,
            override_by=row.override_by,
            override_reason=row.override_reason or "",
        )


class OverrideIn(BaseModel):
    user_id: StrictId
    minutes: int = Field(strict=True, ge=0, le=1440)
    reason: str = Field(default="", max_length=200)  # needed unless minutes is 0


@router.put("/roster/off-shift")
async def allow_off_shift(body: OverrideIn, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    """Let the queue ring an operator who is not on shift, for a while (supervisors)."""
    async with state.unit_of_work() as session:
        o = await service.allow_off_shift(
            session, actor=actor, user_id=body.user_id, minutes=body.minutes, reason=body.reason
        )
        return {
            "user_id": body.user_id,
            "until": o.until.isoformat() if o else None,
            "set_by": o.set_by if o else None,
            "reason": o.reason if o else "",
        }
