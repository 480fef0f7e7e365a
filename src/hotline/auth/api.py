"""Tokens and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hotline.auth import accounts, service
from hotline.auth.models import User
from hotline.auth.service import Actor
from hotline.errors import InvalidInput
from hotline.types import Int32
from hotline.web.deps import client_address, current_actor, get_state, oauth2, page_session_id
from hotline.web.signin import check_credentials
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
    user_id = await check_credentials(
        state, client=client_address(request), username=username, password=password
    )
    async with state.unit_of_work() as session:
        user = await service.signed_in_user(session, user_id=user_id)
        value = await service.issue_token(
            session, user=user, ttl_hours=state.settings.token_ttl_hours
        )
    return TokenOut(access_token=value)


class UserPatch(BaseModel):
    """Admin changes to an account; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


class RevokedOut(BaseModel):
    tokens: int
    sessions: int


@router.post("/auth/logout", status_code=204)
async def logout(
    request: Request,
    actor: ActorDep,
    state: StateDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> Response:
    """Sign out: revoke the bearer token of this request, or end its page session."""
    async with state.unit_of_work() as session:
        if token:
            await service.revoke_token(session, token=token)
        elif (session_id := page_session_id(request)) is not None:
            await service.end_page_session(session, session_id=session_id)
    if token:
        state.tokens.discard(token)
    else:
        request.session.clear()
        state.tokens.note_revocation()
    return Response(status_code=204)


@router.post("/users/me/password", status_code=204)
async def change_my_password(
    request: Request,
    body: PasswordChange,
    actor: ActorDep,
    state: StateDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> Response:
    """Change one's own password; every other session and every token of the user ends.

    A wrong current password counts as a failed sign-in: a stolen session must not become
    an unthrottled way of guessing the password.
    """
    client = client_address(request)
    await state.logins.check(client, actor.username)
    try:
        async with state.unit_of_work() as session:
            await accounts.change_own_password(
                session,
                actor=actor,
                current_password=body.current_password,
                new_password=body.new_password,
                keep_session_id=None if token else page_session_id(request),
            )
    except InvalidInput as exc:
        if exc.field == "current_password":
            await state.logins.failed(client, actor.username)
        raise
    state.tokens.discard_user(actor.user_id or 0)
    return Response(status_code=204)


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(user_id: int, body: UserPatch, actor: ActorDep, state: StateDep) -> UserOut:
    """Admin: disable or enable an account, or set its password (both end its sessions)."""
    async with state.unit_of_work() as session:
        user = await accounts.update_user(
            session, actor=actor, user_id=user_id, active=body.active, password=body.password
        )
        out = _out(user)
    state.tokens.discard_user(user_id)
    return out


@router.post("/users/{user_id}/revoke", response_model=RevokedOut)
async def revoke_user(user_id: int, actor: ActorDep, state: StateDep) -> RevokedOut:
    """Admin: end every token and page session of a user (the account stays open)."""
    async with state.unit_of_work() as session:
        done = await accounts.revoke_user(session, actor=actor, user_id=user_id)
    state.tokens.discard_user(user_id)
    return RevokedOut(tokens=done.tokens, sessions=done.sessions)


@router.get("/users/me", response_model=UserOut)
async def me(actor: ActorDep, state: StateDep) -> UserOut:
    async with state.unit_of_work(read_only=True) as session:
        user = await service.get_user(session, actor.user_id or 0)
        return _out(user)


@router.get("/users", response_model=list[UserOut])
async def users(actor: ActorDep, state: StateDep) -> list[UserOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [_out(u) for u in await service.list_users(session, actor=actor)]


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(body: UserIn, actor: ActorDep, state: StateDep) -> UserOut:
    async with state.unit_of_work() as session:
        user = await accounts.create_account(
            session,
            actor=actor,
            username=body.username,
            password=body.password,
            role=body.role,
            unit_id=body.unit_id,
            full_name=body.full_name,
        )
        return _out(user)


def _out(u: User) -> UserOut:
    return UserOut(
        id=u.id,
        username=u.username,
        full_name=u.full_name,
        role=u.role.value,
        unit_id=u.unit_id,
        active=u.active,
    )
