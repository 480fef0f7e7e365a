"""Volunteers: the public sign-up, the list, approval and the reserve."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, StrictBool

from hotline.errors import InvalidInput
from hotline.staffing import confirming, offers, volunteers
from hotline.staffing.api.common import ActorDep, StateDep
from hotline.staffing.confirming import CodeSent
from hotline.staffing.models import Volunteer
from hotline.staffing.paging import DEFAULT_LIMIT, MAX_LIMIT
from hotline.types import Id
from hotline.web.deps import client_address

router = APIRouter(prefix="/api/v1", tags=["staffing"])


# Strict: "yes" or 1 is not a yes (pydantic would coerce them).
class SkillsIn(BaseModel):
    medical: StrictBool = False
    languages: list[str] = Field(default_factory=lambda: ["vi"], max_length=10)
    channels: list[str] = Field(default_factory=lambda: ["phone"], max_length=10)


class VolunteerIn(BaseModel):
    full_name: str = Field(max_length=120)
    phone: str = Field(max_length=40)
    skills: SkillsIn = Field(default_factory=SkillsIn)
    note: str = Field(default="", max_length=500)
    reserve: StrictBool = False  # may be called in when the line is overwhelmed (surge mode)


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
    # The number proved the volunteer's: "code" (typed back), "supervisor" (who approved
    # it after reaching them), or null (not yet).
    phone_confirmed: Literal["code", "supervisor"] | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: int | None = None
    withdraw_reason: str = ""

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
            phone_confirmed=(
                None
                if v.phone_confirmed_at is None
                else "code"
                if v.phone_confirmed_by is None
                else "supervisor"
            ),
            withdrawn_at=v.withdrawn_at,
            withdrawn_by=v.withdrawn_by,
            withdraw_reason=v.withdraw_reason,
        )


class SignedUpOut(BaseModel):
    status: Literal["received"]
    detail: str
    # Whether a confirmation code was texted: `sent`, `none` (no SMS channel: a supervisor
    # phones the number), or `limit` (the number had its codes for 24 hours; `detail` says so).
    code: Literal["sent", "none", "limit"]


@router.post("/public/volunteers", response_model=SignedUpOut, status_code=202)
async def sign_up(body: VolunteerIn, request: Request, state: StateDep) -> SignedUpOut:
    """Offer to volunteer (no sign-in; throttled per address); a supervisor approves. A
    number that already has an offer is answered exactly as a new one."""
    await state.public.hit(client_address(request))
    async with state.unit_of_work() as session:
        offer = await volunteers.sign_up(
            session,
            full_name=body.full_name,
            phone=body.phone,
            skills=body.skills.model_dump(),
            note=body.note,
            reserve=body.reserve,
        )
    detail: str = volunteers.RECEIVED
    if offer.code is CodeSent.LIMIT:
        detail = f"{detail} {confirming.CODE_LIMIT}"
    return SignedUpOut(status="received", detail=detail, code=offer.code.value)


class VolunteerPageOut(BaseModel):
    items: list[VolunteerOut]
    next_cursor: str | None


@router.get("/volunteers", response_model=VolunteerPageOut)
async def list_volunteers(
    actor: ActorDep,
    state: StateDep,
    status: Annotated[str | None, Query(max_length=10)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> VolunteerPageOut:
    """Volunteers, newest first, a page at a time (`next_cursor` for the next)."""
    async with state.unit_of_work(read_only=True) as session:
        page = await volunteers.list_volunteers(
            session, actor=actor, status=status, phone=phone, cursor=cursor, limit=limit
        )
        return VolunteerPageOut(
            items=[VolunteerOut.of(v) for v in page.items], next_cursor=page.next_cursor
        )


@router.get("/volunteers/mine", response_model=VolunteerOut)
async def own_offer(actor: ActorDep, state: StateDep) -> VolunteerOut:
    """The live volunteer offer linked to the caller's account (404 when none)."""
    async with state.unit_of_work(read_only=True) as session:
        return VolunteerOut.of(await offers.own_offer(session, actor=actor))


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=offers.REASON_LENGTH)


class WithdrawOut(BaseModel):
    volunteer: VolunteerOut
    places_removed: int  # places on shifts not yet begun, taken off


@router.post("/volunteers/{volunteer_id}/withdraw", response_model=WithdrawOut)
async def withdraw_volunteer(
    volunteer_id: Id, actor: ActorDep, state: StateDep, body: WithdrawIn | None = None
) -> WithdrawOut:
    """Withdraw an offer (a supervisor, or the volunteer through their linked account):
    its places on shifts not yet begun go, those begun or ended stay."""
    async with state.unit_of_work() as session:
        done = await offers.withdraw(
            session, actor=actor, volunteer_id=volunteer_id, reason=body.reason if body else ""
        )
        return WithdrawOut(
            volunteer=VolunteerOut.of(done.volunteer), places_removed=done.places_removed
        )


class AccountIn(BaseModel):
    user_id: Id | None


@router.put("/volunteers/{volunteer_id}/account", response_model=VolunteerOut)
async def relink_volunteer(
    volunteer_id: Id, body: AccountIn, actor: ActorDep, state: StateDep
) -> VolunteerOut:
    """Link an approved volunteer to another account, or to none (`user_id` null)."""
    async with state.unit_of_work() as session:
        v = await offers.relink(
            session, actor=actor, volunteer_id=volunteer_id, user_id=body.user_id
        )
        return VolunteerOut.of(v)


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


class ConfirmIn(BaseModel):
    phone: str = Field(max_length=40)
    code: str = Field(max_length=12)


class ConfirmedOut(BaseModel):
    status: Literal["confirmed"]
    detail: str


@router.post("/public/volunteers/confirm", response_model=ConfirmedOut)
async def confirm_phone(body: ConfirmIn, request: Request, state: StateDep) -> ConfirmedOut:
    """The code texted to a volunteer's number, typed back: the number is theirs (no
    sign-in; throttled per address). A wrong or expired code: 422 naming `code`."""
    await state.public.hit(client_address(request))
    async with state.unit_of_work() as session:
        found = await confirming.confirm_phone(session, phone=body.phone, code=body.code)
    if found is None:  # the wrong try is counted (committed above), then refused
        raise InvalidInput(confirming.WRONG_CODE, field="code")
    return ConfirmedOut(status="confirmed", detail=confirming.CONFIRMED)
