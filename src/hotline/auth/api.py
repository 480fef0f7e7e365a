"""Tokens and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, Field

from hotline.auth import service
from hotline.auth.models import Role, User
from hotline.auth.service import Actor
from hotline.errors import NotAllowed, Unauthenticated
from hotline.types import Int32
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["auth"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    unit_id: int | None
    active: bool


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=8, max_length=200)
    role: str
    unit_id: Int32 | None = None
    full_name: str = Field(default="", max_length=200)


@router.post("/auth/token", response_model=TokenOut)
async def token(
    request: Request,
    state: StateDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> TokenOut:
    client = request.client.host if request.client else "?"
    state.logins.check(client, username)
    try:
        async with state.unit_of_work() as session:
            user = await service.authenticate(session, username=username, password=password)
            value = await service.issue_token(
                session, user=user, ttl_hours=state.settings.token_ttl_hours
            )
    except Unauthenticated:
        state.logins.failed(client, username)
        raise
    state.logins.succeeded(client, username)
    return TokenOut(access_token=value)


@router.get("/users/me", response_model=UserOut)
async def me(actor: ActorDep, state: StateDep) -> UserOut:
    async with state.unit_of_work() as session:
        user = await service.get_user(session, actor.user_id or 0)
        return _out(user)


@router.get("/users", response_model=list[UserOut])
async def users(actor: ActorDep, state: StateDep) -> list[UserOut]:
    _admin_or_supervisor(actor)
    async with state.unit_of_work() as session:
        return [_out(u) for u in await service.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(body: UserIn, actor: ActorDep, state: StateDep) -> UserOut:
    if actor.role != Role.ADMIN:
        raise NotAllowed("Chỉ quản trị viên được tạo tài khoản")
    async with state.unit_of_work() as session:
        user = await service.create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            unit_id=body.unit_id,
            full_name=body.full_name,
        )
        return _out(user)


def _admin_or_supervisor(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise NotAllowed("Chỉ quản trị viên hoặc trưởng ca")


def _out(u: User) -> UserOut:
    return UserOut(
        id=u.id,
        username=u.username,
        full_name=u.full_name,
        role=u.role.value,
        unit_id=u.unit_id,
        active=u.active,
    )
