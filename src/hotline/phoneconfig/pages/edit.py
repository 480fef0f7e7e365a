"""Editing one object of the phone configuration (`/admin/phone/{kinds}/{key}`): a line, a
voice menu, a destination, a queue with its opening hours, a prompt's words; and a new one
(`/admin/phone/new/{kinds}`). Every save goes through the service the API uses (validation
against the whole configuration, the version the page showed, the audit trail)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import service as auth
from hotline.auth.audit import differences
from hotline.auth.service import Actor
from hotline.errors import DomainError, NotFound
from hotline.phoneconfig import service as phoneconfig
from hotline.phoneconfig import uploads
from hotline.phoneconfig.defaults import default_config
from hotline.phoneconfig.models import PhoneConfigChange
from hotline.phoneconfig.pages.forms import FIELDS, KIND_OF, MAX_OPTIONS, PATH_OF, PhoneForm, shown
from hotline.phoneconfig.schemas import PromptText
from hotline.web.deps import get_state
from hotline.web.forms import Errors, Workspace
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


def kind_of(kinds: str) -> str:
    kind = KIND_OF.get(kinds)
    if kind is None:
        raise NotFound("Không có mục cấu hình này", field="kind")
    return kind


def _value(value: Any) -> Any:
    """A stored setting as the history reads it (a menu's rows, an upload's checksum)."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [f"{o.get('digit')} → {o.get('destination') or o.get('queue')}" for o in value]
    if isinstance(value, dict) and "sha256" in value:
        return f"{value.get('seconds')} s, SHA-256 {str(value['sha256'])[:12]}…"
    return value


def action_of(change: PhoneConfigChange) -> str:
    """The trail's verb as `workspace/changes.html` names it."""
    if change.action == "put":
        return "create" if change.before is None else "update"
    return change.action  # upload | unupload


async def trail(
    session: AsyncSession, changes: Iterable[PhoneConfigChange]
) -> list[dict[str, Any]]:
    """The phone configuration's changes as `workspace/changes.html` shows them."""
    rows = list(changes)
    names = await auth.display_names(session, {c.user_id for c in rows if c.user_id})
    return [
        {
            "at": c.at,
            "by": names.get(c.user_id) if c.user_id else None,
            "key": c.key,
            "action": action_of(c),
            "changes": [
                (field, _value(old), _value(new))
                for field, old, new in differences(c.before, c.after)
            ],
        }
        for c in rows
    ]


async def item_page(
    request: Request,
    state: AppState,
    kind: str,
    key: str | None,
    *,
    errors: Errors | None = None,
    typed: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The object's form with its settings (or what was typed), its version and history;
    a prompt's recording with the listen button and the upload form. `key` None: new."""

    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        phoneconfig.require_configurer(actor)
        defaults = default_config(state.settings)
        obj, version, history = None, 0, []
        if key is not None:
            obj, version = await phoneconfig.get_item(
                session, kind=kind, key=key, defaults=defaults
            )
            changes = await phoneconfig.list_changes(session, actor=actor, kind=kind, key=key)
            history = await trail(session, changes)
        config = (await phoneconfig.load_config(session, defaults=defaults)).config
        values = dict(typed) if typed is not None else shown(kind, obj)
        rows = max(len(values.get("digit", [])) + 2, 4) if kind == "menu" else 0
        return {
            "kind": kind,
            "kinds": PATH_OF[kind],
            "key": key,
            "version": version,
            "typed": values,
            "rows": min(rows, MAX_OPTIONS),
            "history": history,
            "upload": obj.upload if isinstance(obj, PromptText) else None,
            "choices": {
                "menus": [m.name for m in config.menus],
                "prompts": [p.name for p in config.prompts],
                "queues": [q.name for q in config.queues],
                "destinations": [d.name for d in config.destinations],
            },
            "max_mb": state.settings.prompt_upload_max_bytes / 1024 / 1024,
        }

    return await ws.page(
        request,
        state,
        "phoneconfig/item.html",
        load,
        errors=errors,
        typed=typed,
        status_code=status_code,
    )


@router.get("/admin/phone/new/{kinds}", response_class=HTMLResponse)
async def new_item(request: Request, kinds: str, state: StateDep) -> Response:
    return await item_page(request, state, kind_of(kinds), None)


@router.get("/admin/phone/{kinds}/{key}", response_class=HTMLResponse)
async def item(request: Request, kinds: str, key: str, state: StateDep) -> Response:
    return await item_page(request, state, kind_of(kinds), key)


async def save(
    request: Request, state: AppState, kind: str, key: str | None, form: PhoneForm
) -> Response:
    """Create (key None: the form's `key`, version 0) or replace one object."""
    name = form.key.strip() if key is None else key

    async def change(session: AsyncSession, actor: Actor) -> str:
        defaults = default_config(state.settings)
        try:
            if kind == "prompt":
                await uploads.set_prompt_text(
                    session,
                    actor=actor,
                    name=name,
                    text=form.text.strip(),
                    version=0 if key is None else form.expected_version(),
                    defaults=defaults,
                    new=key is None,
                )
            else:
                await phoneconfig.put_item(
                    session,
                    actor=actor,
                    kind=kind,
                    key=name,
                    data=form.data(kind),
                    version=0 if key is None else form.expected_version(),
                    defaults=defaults,
                    new=key is None,
                    # The form shows a queue's main settings; members, overflow and
                    # callback rules (set through the API) are kept as they are.
                    merge=kind == "queue",
                )
        except DomainError as exc:
            form.place(kind, exc)
            raise
        done = "created" if key is None else "saved"
        return f"/admin/phone/{PATH_OF[kind]}/{name}?done={done}"

    async def again(errors: Errors, status: int) -> Response:
        return await item_page(
            request, state, kind, key, errors=errors, typed=form.typed(), status_code=status
        )

    return await ws.submit(request, state, form, change, again=again, fields=FIELDS)


@router.post("/admin/phone/new/{kinds}", response_class=HTMLResponse)
async def create_item(
    request: Request, kinds: str, state: StateDep, form: Annotated[PhoneForm, Form()]
) -> Response:
    return await save(request, state, kind_of(kinds), None, form)


@router.post("/admin/phone/{kinds}/{key}", response_class=HTMLResponse)
async def update_item(
    request: Request,
    kinds: str,
    key: str,
    state: StateDep,
    form: Annotated[PhoneForm, Form()],
) -> Response:
    return await save(request, state, kind_of(kinds), key, form)
