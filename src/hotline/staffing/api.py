"""Shifts, the roster, swaps, clocking in and out, the staffing forecast, volunteers and
surge mode."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from hotline.auth.service import Actor
from hotline.staffing import alerts, planning, service, surge, swaps, volunteers
from hotline.staffing.models import ShiftSwap, ShiftTemplate, Volunteer
from hotline.types import Id
from hotline.web.deps import client_address, current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["staffing"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class ShiftIn(BaseModel):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(max_length=80)
    starts_at: time
    hours: int = Field(ge=1, le=24)
    operators: int = Field(ge=0, le=1000)
    active: bool = True


class ShiftOut(BaseModel):
    id: int
    code: str
    name: str
    starts_at: time
    hours: int
    operators: int
    active: bool

    @classmethod
    def of(cls, s: ShiftTemplate) -> ShiftOut:
        return cls.model_validate(s, from_attributes=True)


@router.get("/shifts", response_model=list[ShiftOut])
async def list_shifts(actor: ActorDep, state: StateDep) -> list[ShiftOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [ShiftOut.of(s) for s in await service.list_shifts(session, actor=actor)]


@router.put("/shifts", response_model=ShiftOut)
async def save_shift(body: ShiftIn, actor: ActorDep, state: StateDep) -> ShiftOut:
    async with state.unit_of_work() as session:
        shift = await service.save_shift(session, actor=actor, **body.model_dump())
        return ShiftOut.of(shift)


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
                    people=[PersonOut(**vars(p)) for p in d.people],
                )
                for d in days
            ],
        )


class AssignIn(BaseModel):
    day: date
    shift_id: Id
    user_id: Id | None = None
    volunteer_id: Id | None = None


class EntryOut(BaseModel):
    id: int
    day: date
    shift_id: int
    user_id: int | None
    volunteer_id: int | None


@router.post("/roster", response_model=EntryOut, status_code=201)
async def assign(body: AssignIn, actor: ActorDep, state: StateDep) -> EntryOut:
    async with state.unit_of_work() as session:
        e = await service.assign(session, actor=actor, **body.model_dump())
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


@router.post("/roster/copy-week")
async def copy_week(body: CopyWeekIn, actor: ActorDep, state: StateDep) -> dict[str, int]:
    async with state.unit_of_work() as session:
        added = await service.copy_week(
            session, actor=actor, source=body.source, target=body.target
        )
        return {"added": added}


class SwapIn(BaseModel):
    to_user_id: Id
    reason: str = Field(default="", max_length=500)


class SwapOut(BaseModel):
    id: int
    entry_id: int
    requested_by: int
    to_user_id: int
    reason: str
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None

    @classmethod
    def of(cls, s: ShiftSwap) -> SwapOut:
        return cls(
            id=s.id,
            entry_id=s.entry_id,
            requested_by=s.requested_by,
            to_user_id=s.to_user_id,
            reason=s.reason,
            status=s.status.value,
            created_at=s.created_at,
            decided_by=s.decided_by,
            decided_at=s.decided_at,
        )


@router.post("/roster/{entry_id}/swaps", response_model=SwapOut, status_code=201)
async def request_swap(entry_id: Id, body: SwapIn, actor: ActorDep, state: StateDep) -> SwapOut:
    async with state.unit_of_work() as session:
        swap = await swaps.request_swap(
            session, actor=actor, entry_id=entry_id, to_user_id=body.to_user_id, reason=body.reason
        )
        return SwapOut.of(swap)


@router.get("/swaps", response_model=list[SwapOut])
async def list_swaps(
    actor: ActorDep, state: StateDep, status: Annotated[str | None, Query(max_length=10)] = None
) -> list[SwapOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [SwapOut.of(s) for s in await swaps.list_swaps(session, actor=actor, status=status)]


@router.post("/swaps/{swap_id}/{verb}", response_model=SwapOut)
async def decide_swap(
    swap_id: Id, verb: Literal["approve", "reject"], actor: ActorDep, state: StateDep
) -> SwapOut:
    async with state.unit_of_work() as session:
        swap = await swaps.decide_swap(
            session, actor=actor, swap_id=swap_id, approve=verb == "approve"
        )
        return SwapOut.of(swap)


class ClockOut(BaseModel):
    user_id: int
    in_at: datetime
    out_at: datetime | None


@router.post("/shifts/clock/{verb}", response_model=ClockOut)
async def clock(verb: Literal["in", "out"], actor: ActorDep, state: StateDep) -> ClockOut:
    """Clock in (available on the line) or out (away)."""
    async with state.unit_of_work() as session:
        row = await service.clock(session, actor=actor, clock_in=verb == "in")
        return ClockOut(user_id=row.user_id, in_at=row.in_at, out_at=row.out_at)


class OverrideIn(BaseModel):
    user_id: Id
    minutes: int = Field(ge=0, le=1440)


@router.put("/roster/off-shift")
async def allow_off_shift(body: OverrideIn, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    """Let the queue ring an operator who is not on shift, for a while (supervisors)."""
    async with state.unit_of_work() as session:
        o = await service.allow_off_shift(
            session, actor=actor, user_id=body.user_id, minutes=body.minutes
        )
        return {"user_id": body.user_id, "until": o.until.isoformat() if o else None}


# -- forecast ---------------------------------------------------------------------------------


class ServiceLevelOut(BaseModel):
    target: float
    seconds: int


class SlotOut(BaseModel):
    start: datetime
    calls: float
    aht_seconds: float
    agents_needed: int
    agents_rostered: int
    gap: int


class ForecastOut(BaseModel):
    service_level: ServiceLevelOut
    # "erlang_a" when the call history shows callers' mean patience, else "erlang_c".
    model: str
    patience_seconds: float | None
    slots: list[SlotOut]


@router.get("/staffing/forecast", response_model=ForecastOut)
async def staffing_forecast(
    actor: ActorDep,
    state: StateDep,
    day: Annotated[date, Query(alias="date")],
    days: Annotated[int, Query(ge=1, le=planning.MAX_DAYS)] = 1,
    scale: Annotated[int, Query(ge=1, le=3)] = 1,
) -> ForecastOut:
    """Calls, handle time, agents needed and rostered per half-hour (site time); `scale`
    2 or 3 shows what doubled or tripled calls would need."""
    rules = planning.StaffingRules.from_settings(state.settings)
    async with state.unit_of_work(read_only=True) as session:
        f = await planning.staffing_forecast(
            session, actor=actor, first_day=day, rules=rules, days=days, scale=float(scale)
        )
    return ForecastOut(
        service_level=ServiceLevelOut(target=rules.target, seconds=rules.seconds),
        model=f.model,
        patience_seconds=None if f.patience_seconds is None else round(f.patience_seconds, 1),
        slots=[
            SlotOut(
                start=s.start,
                calls=round(s.calls, 2),
                aht_seconds=round(s.aht_seconds, 1),
                agents_needed=s.agents_needed,
                agents_rostered=s.agents_rostered,
                gap=s.gap,
            )
            for s in f.slots
        ],
    )


# -- volunteers -------------------------------------------------------------------------------


class SkillsIn(BaseModel):
    medical: bool = False
    languages: list[str] = Field(default_factory=lambda: ["vi"], max_length=10)
    channels: list[str] = Field(default_factory=lambda: ["phone"], max_length=10)


class VolunteerIn(BaseModel):
    full_name: str = Field(max_length=120)
    phone: str = Field(max_length=40)
    skills: SkillsIn = Field(default_factory=SkillsIn)
    note: str = Field(default="", max_length=500)
    reserve: bool = False  # may be called in when the line is overwhelmed (surge mode)


class VolunteerOut(BaseModel):
    id: int
    full_name: str
    phone: str
    skills: dict[str, Any]
    status: str
    note: str
    user_id: int | None
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    reserve: bool

    @classmethod
    def of(cls, v: Volunteer) -> VolunteerOut:
        return cls(
            id=v.id,
            full_name=v.full_name,
            phone=v.phone,
            skills=v.skills,
            status=v.status.value,
            note=v.note,
            user_id=v.user_id,
            created_at=v.created_at,
            decided_by=v.decided_by,
            decided_at=v.decided_at,
            reserve=v.reserve,
        )


class SignedUpOut(BaseModel):
    id: int
    status: str


@router.post("/public/volunteers", response_model=SignedUpOut, status_code=201)
async def sign_up(body: VolunteerIn, request: Request, state: StateDep) -> SignedUpOut:
    """Offer to volunteer (no sign-in; throttled per address); a supervisor approves."""
    await state.public.hit(client_address(request))
    async with state.unit_of_work() as session:
        v = await volunteers.sign_up(
            session,
            full_name=body.full_name,
            phone=body.phone,
            skills=body.skills.model_dump(),
            note=body.note,
            reserve=body.reserve,
        )
        return SignedUpOut(id=v.id, status=v.status.value)


@router.get("/volunteers", response_model=list[VolunteerOut])
async def list_volunteers(
    actor: ActorDep, state: StateDep, status: Annotated[str | None, Query(max_length=10)] = None
) -> list[VolunteerOut]:
    async with state.unit_of_work(read_only=True) as session:
        found = await volunteers.list_volunteers(session, actor=actor, status=status)
        return [VolunteerOut.of(v) for v in found]


class DecideIn(BaseModel):
    user_id: Id | None = None


@router.post("/volunteers/{volunteer_id}/{verb}", response_model=VolunteerOut)
async def decide_volunteer(
    volunteer_id: Id,
    verb: Literal["approve", "reject"],
    actor: ActorDep,
    state: StateDep,
    body: DecideIn | None = None,
) -> VolunteerOut:
    async with state.unit_of_work() as session:
        v = await volunteers.decide(
            session,
            actor=actor,
            volunteer_id=volunteer_id,
            approve=verb == "approve",
            user_id=body.user_id if body else None,
        )
        return VolunteerOut.of(v)


class ReserveIn(BaseModel):
    reserve: bool


@router.put("/volunteers/{volunteer_id}/reserve", response_model=VolunteerOut)
async def set_reserve(
    volunteer_id: Id, body: ReserveIn, actor: ActorDep, state: StateDep
) -> VolunteerOut:
    """Mark a volunteer in reserve (alerted when surge mode starts) or not."""
    async with state.unit_of_work() as session:
        v = await volunteers.set_reserve(
            session, actor=actor, volunteer_id=volunteer_id, reserve=body.reserve
        )
        return VolunteerOut.of(v)


# -- surge mode -------------------------------------------------------------------------------


class SurgeChangeOut(BaseModel):
    at: datetime
    active: bool
    manual: bool
    user_id: int | None
    reason: str
    figures: dict[str, Any]


class SurgeOut(BaseModel):
    active: bool
    manual: bool
    since: datetime | None
    figures: dict[str, Any]
    # In surge mode, the wait a newcomer can expect (what chat acknowledgements state).
    expected_wait_seconds: int | None
    history: list[SurgeChangeOut]


class SurgeIn(BaseModel):
    active: bool
    reason: str = Field(default="", max_length=200)


def _surge_out(view: surge.SurgeView) -> SurgeOut:
    return SurgeOut(
        active=view.active,
        manual=view.manual,
        since=view.since,
        figures=view.figures.as_json(),
        expected_wait_seconds=view.expected_wait_seconds,
        history=[
            SurgeChangeOut(
                at=c.at,
                active=c.active,
                manual=c.manual,
                user_id=c.user_id,
                reason=c.reason,
                figures=c.figures,
            )
            for c in view.history
        ],
    )


@router.get("/surge", response_model=SurgeOut)
async def read_surge(actor: ActorDep, state: StateDep) -> SurgeOut:
    """Surge mode now, the queue's figures, and each entry and exit with its figures."""
    async with state.unit_of_work(read_only=True) as session:
        return _surge_out(await surge.read_surge(session, actor=actor))


@router.put("/surge", response_model=SurgeOut)
async def switch_surge(body: SurgeIn, actor: ActorDep, state: StateDep) -> SurgeOut:
    """A supervisor's switch: on holds until switched off; off holds for a while."""
    async with state.unit_of_work() as session:
        rules = surge.SurgeRules.from_settings(state.settings)
        await surge.switch(
            session, actor=actor, active=body.active, reason=body.reason, rules=rules
        )
        return _surge_out(await surge.read_surge(session, actor=actor))


class NoticeOut(BaseModel):
    id: int
    at: datetime
    surge_change_id: int
    user_id: int | None
    volunteer_id: int | None
    text: str
    delivery: str
    message_id: int | None


@router.get("/staffing/notices", response_model=list[NoticeOut])
async def list_notices(
    actor: ActorDep, state: StateDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[NoticeOut]:
    """Surge alerts: supervisors see every notice, anyone else their own."""
    async with state.unit_of_work(read_only=True) as session:
        return [
            NoticeOut(
                id=n.id,
                at=n.at,
                surge_change_id=n.surge_change_id,
                user_id=n.user_id,
                volunteer_id=n.volunteer_id,
                text=n.text,
                delivery=n.delivery.value,
                message_id=n.message_id,
            )
            for n in await alerts.list_notices(session, actor=actor, limit=limit)
        ]
