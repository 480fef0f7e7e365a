"""Accounts and roles (`/admin/users`): the list, a new account, an account's page with
disabling, a new password, signing out everywhere and the phone's SIP login
(auth.accounts, agents.service)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents import service as agents
from hotline.auth import accounts, audit
from hotline.auth import service as auth
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.directory import service as directory
from hotline.errors import InvalidInput
from hotline.web.deps import get_state
from hotline.web.forms import Errors, PageForm, Workspace, last_by_key, trail
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


class NewUserForm(PageForm):
    SECRET: ClassVar[frozenset[str]] = frozenset({"password"})
    username: str = ""
    full_name: str = ""
    role: str = ""
    unit: str = ""
    password: str = ""


class ActiveForm(PageForm):
    active: str = ""


class PasswordForm(PageForm):
    SECRET: ClassVar[frozenset[str]] = frozenset({"password"})
    password: str = ""


class SipForm(PageForm):
    SECRET: ClassVar[frozenset[str]] = frozenset({"sip_password"})
    sip_username: str = ""
    sip_password: str = ""
    sip_uri: str = ""


# The SIP service names its fields username/password/uri; on the page they sit next to the
# account's own, so they are told apart by a prefix.
SIP_FIELDS = {"username": "sip_username", "password": "sip_password", "uri": "sip_uri"}


@router.get("/admin/users", response_class=HTMLResponse)
async def users(request: Request, state: StateDep) -> Response:
    return await _users_page(request, state)


async def _users_page(
    request: Request,
    state: AppState,
    *,
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        people = await auth.list_users(session, actor=actor)
        return {
            "people": people,
            "sip": await agents.sip_usernames(session),
            "units": {u.id: u for u in await directory.list_units(session)},
            "can_manage": allows(actor, Permission.MANAGE_USERS),
            "last": await last_by_key(session, actor, "user"),
        }

    return await ws.page(
        request,
        state,
        "admin/users.html",
        load,
        errors=errors,
        typed=typed,
        status_code=status_code,
    )


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(
    request: Request, state: StateDep, form: Annotated[NewUserForm, Form()]
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> str:
        unit = form.unit.strip()
        if unit and not unit.isdigit():
            raise InvalidInput("Chọn một đơn vị", field="unit")
        created = await accounts.create_account(
            session,
            actor=actor,
            username=form.username,
            password=form.password,
            role=form.role,
            unit_id=int(unit) if unit else None,
            full_name=form.full_name.strip(),
        )
        return f"/admin/users/{created.id}?done=created"

    async def again(errors: Errors, status: int) -> Response:
        return await _users_page(
            request, state, errors=errors, typed=form.typed(), status_code=status
        )

    return await ws.submit(request, state, form, change, again=again)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(request: Request, user_id: int, state: StateDep) -> Response:
    return await _user_page(request, state, user_id)


async def _user_page(
    request: Request,
    state: AppState,
    user_id: int,
    *,
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        person = await auth.view_user(session, actor=actor, user_id=user_id)
        unit = await directory.get_unit(session, person.unit_id) if person.unit_id else None
        return {
            "person": person,
            "agent": await agents.find_agent(session, user_id=user_id),
            "unit": unit,
            "takes_calls": agents.takes_calls(person),
            "can_manage": allows(actor, Permission.MANAGE_USERS),
            "can_sip": allows(actor, Permission.CONFIGURE_PHONE),
            "changes": await trail(
                session,
                await audit.list_changes(session, actor=actor, kind="user", key=str(user_id)),
            ),
        }

    return await ws.page(
        request,
        state,
        "admin/user.html",
        load,
        errors=errors,
        typed=typed,
        status_code=status_code,
    )


async def _user_change(
    request: Request,
    state: AppState,
    user_id: int,
    form: PageForm,
    run: Any,
    *,
    done: str,
    fallback: str,
    fields: frozenset[str] = frozenset(),
    rename: dict[str, str] | None = None,
) -> Response:
    """One account change; on refusal, the account's page again with the message next to
    the control (`fallback` when the service names none of `fields`)."""

    async def change(session: AsyncSession, actor: Actor) -> str:
        await run(session, actor)
        return f"/admin/users/{user_id}?done={done}"

    async def again(errors: Errors, status: int) -> Response:
        return await _user_page(
            request, state, user_id, errors=errors, typed=form.typed(), status_code=status
        )

    return await ws.submit(
        request,
        state,
        form,
        change,
        again=again,
        fallback=fallback,
        fields=fields,
        rename=rename,
        # Credentials ended in the database; this process's token cache forgets them too.
        then=lambda: state.tokens.discard_user(user_id),
    )


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(
    request: Request, user_id: int, state: StateDep, form: Annotated[ActiveForm, Form()]
) -> Response:
    active = form.active == "1"

    async def run(session: AsyncSession, actor: Actor) -> None:
        await accounts.set_active(session, actor=actor, user_id=user_id, active=active)

    done = "enabled" if active else "disabled"
    return await _user_change(request, state, user_id, form, run, done=done, fallback="active")


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
async def set_password(
    request: Request, user_id: int, state: StateDep, form: Annotated[PasswordForm, Form()]
) -> Response:
    async def run(session: AsyncSession, actor: Actor) -> None:
        await accounts.set_password(
            session, actor=actor, user_id=user_id, new_password=form.password
        )

    return await _user_change(
        request,
        state,
        user_id,
        form,
        run,
        done="password",
        fallback="password",
        fields=PasswordForm.fields(),
    )


@router.post("/admin/users/{user_id}/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request, user_id: int, state: StateDep, form: Annotated[PageForm, Form()]
) -> Response:
    async def run(session: AsyncSession, actor: Actor) -> None:
        await accounts.revoke_user(session, actor=actor, user_id=user_id)

    return await _user_change(request, state, user_id, form, run, done="revoked", fallback="revoke")


@router.post("/admin/users/{user_id}/sip", response_class=HTMLResponse)
async def set_sip(
    request: Request, user_id: int, state: StateDep, form: Annotated[SipForm, Form()]
) -> Response:
    async def run(session: AsyncSession, actor: Actor) -> None:
        await agents.set_sip_credentials(
            session,
            actor=actor,
            user_id=user_id,
            username=form.sip_username.strip(),
            password=form.sip_password,
            realm=state.settings.sip_realm,
            uri=form.sip_uri.strip(),
        )

    return await _user_change(
        request,
        state,
        user_id,
        form,
        run,
        done="sip",
        fallback="sip",
        fields=SipForm.fields(),
        rename=SIP_FIELDS,
    )
