"""Operator availability and the SIP login of their phones."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from hotline.agents import service
from hotline.auth.service import Actor
from hotline.errors import Unauthenticated
from hotline.staffing.availability import set_availability
from hotline.types import Id
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["agents"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class StatusIn(BaseModel):
    status: str = Field(max_length=12)


class StatusOut(BaseModel):
    user_id: int
    status: str
    status_since: datetime
    current_call_id: int | None


class AgentOut(BaseModel):
    user_id: int
    username: str
    full_name: str
    role: str
    status: str
    status_since: datetime
    calls_today: int
    sip_username: str | None
    sip_uri: str | None


class SipIn(BaseModel):
    username: str = Field(max_length=80)
    password: str = Field(max_length=200)
    uri: str | None = Field(default=None, max_length=200)


class SipOut(BaseModel):
    user_id: int
    sip_username: str | None
    sip_uri: str | None


def _me(actor: Actor) -> int:
    if actor.user_id is None:
        raise Unauthenticated("Cần đăng nhập bằng tài khoản người dùng")
    return actor.user_id


@router.put("/agents/me/status", response_model=StatusOut)
async def set_my_status(body: StatusIn, actor: ActorDep, state: StateDep) -> StatusOut:
    """Available or busy clocks an operator in (or is refused, 409 naming `status`, when
    no place or leave lets them in); away is a break (staffing/availability.py)."""
    _me(actor)
    early = timedelta(minutes=state.settings.staffing_clock_in_early_minutes)
    async with state.unit_of_work() as session:
        agent = await set_availability(session, actor=actor, status=body.status, early=early)
        return StatusOut(
            user_id=agent.user_id,
            status=agent.status.value,
            status_since=agent.status_since,
            current_call_id=agent.current_call_id,
        )


@router.get("/agents/me", response_model=StatusOut)
async def my_status(actor: ActorDep, state: StateDep) -> StatusOut:
    """The console polls this as well: `current_call_id` is the call to pop."""
    async with state.unit_of_work(read_only=True) as session:
        agent = await service.my_agent(session, user_id=_me(actor))
        return StatusOut(
            user_id=agent.user_id,
            status=agent.status.value,
            status_since=agent.status_since,
            current_call_id=agent.current_call_id,
        )


@router.get("/agents", response_model=list[AgentOut])
async def list_agents(actor: ActorDep, state: StateDep) -> list[AgentOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [AgentOut(**vars(view)) for view in await service.list_agents(session, actor=actor)]


@router.put("/users/{user_id}/sip", response_model=SipOut)
async def set_sip(user_id: Id, body: SipIn, actor: ActorDep, state: StateDep) -> SipOut:
    async with state.unit_of_work() as session:
        agent = await service.set_sip_credentials(
            session,
            actor=actor,
            user_id=user_id,
            username=body.username,
            password=body.password,
            realm=state.settings.sip_realm,
            uri=body.uri,
        )
        return SipOut(user_id=agent.user_id, sip_username=agent.sip_username, sip_uri=agent.sip_uri)


class SkillsIn(BaseModel):
    skills: list[str] = Field(max_length=20)


class SkillsOut(BaseModel):
    user_id: int
    skills: list[str]


@router.put("/users/{user_id}/skills", response_model=SkillsOut)
async def set_skills(user_id: Id, body: SkillsIn, actor: ActorDep, state: StateDep) -> SkillsOut:
    """What a call taker can do; queues ring members by skill (administrators)."""
    async with state.unit_of_work() as session:
        agent = await service.set_skills(session, actor=actor, user_id=user_id, skills=body.skills)
        return SkillsOut(user_id=agent.user_id, skills=list(agent.skills or []))
