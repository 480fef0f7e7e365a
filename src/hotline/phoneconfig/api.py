"""Admin routes for the phone configuration: `/api/v1/phone/...`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, UploadFile
from pydantic import BaseModel

from hotline.auth.service import Actor
from hotline.phoneconfig import service, uploads
from hotline.phoneconfig.defaults import default_config
from hotline.phoneconfig.schemas import (
    ChangeOut,
    ConfigOut,
    DestinationIn,
    ItemOut,
    LineIn,
    MenuIn,
    PromptTextIn,
    QueueIn,
    QueueNew,
    Versioned,
)
from hotline.types import INT32_MAX, Int32
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/phone", tags=["phone"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


def _out(kind: str, obj: BaseModel, version: int) -> ItemOut:
    key_field = service.KINDS[kind][2]
    return ItemOut(
        kind=kind, key=getattr(obj, key_field), version=version, data=obj.model_dump(mode="json")
    )


@router.get("", response_model=ConfigOut)
async def get_config(actor: ActorDep, state: StateDep) -> ConfigOut:
    service.require_configurer(actor)
    async with state.unit_of_work(read_only=True) as session:
        loaded = await service.load_config(session, defaults=default_config(state.settings))
    lists: dict[str, list[ItemOut]] = {}
    for kind, (attr, _schema, key_field) in service.KINDS.items():
        lists[attr] = [
            _out(kind, o, loaded.versions.get((kind, getattr(o, key_field)), 0))
            for o in getattr(loaded.config, attr)
        ]
    return ConfigOut(version=loaded.version, **lists)


@router.get("/changes", response_model=list[ChangeOut])
async def list_changes(
    actor: ActorDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    kind: Annotated[str | None, Query(max_length=12)] = None,
    key: Annotated[str | None, Query(max_length=40)] = None,
) -> list[ChangeOut]:
    async with state.unit_of_work(read_only=True) as session:
        rows = await service.list_changes(session, actor=actor, limit=limit, kind=kind, key=key)
        return [
            ChangeOut(
                id=r.id,
                at=r.at,
                user_id=r.user_id,
                kind=r.kind,
                key=r.key,
                action=r.action,
                before=r.before,
                after=r.after,
            )
            for r in rows
        ]


async def _put(state: AppState, actor: Actor, kind: str, key: str, body: Versioned) -> ItemOut:
    async with state.unit_of_work() as session:
        obj, version = await service.put_item(
            session,
            actor=actor,
            kind=kind,
            key=key,
            data=body.model_dump(exclude={"version"}),
            version=body.version,
            defaults=default_config(state.settings),
        )
    return _out(kind, obj, version)


@router.put("/lines/{number}", response_model=ItemOut)
async def put_line(number: str, body: LineIn, actor: ActorDep, state: StateDep) -> ItemOut:
    return await _put(state, actor, "line", number, body)


@router.put("/menus/{name}", response_model=ItemOut)
async def put_menu(name: str, body: MenuIn, actor: ActorDep, state: StateDep) -> ItemOut:
    return await _put(state, actor, "menu", name, body)


@router.put("/destinations/{name}", response_model=ItemOut)
async def put_destination(
    name: str, body: DestinationIn, actor: ActorDep, state: StateDep
) -> ItemOut:
    return await _put(state, actor, "destination", name, body)


@router.get("/queues", response_model=list[ItemOut])
async def list_queues(actor: ActorDep, state: StateDep) -> list[ItemOut]:
    """Every queue, built in or stored, with the version a PUT must name."""
    async with state.unit_of_work(read_only=True) as session:
        items = await service.list_items(
            session, actor=actor, kind="queue", defaults=default_config(state.settings)
        )
    return [_out("queue", obj, version) for obj, version in items]


@router.post("/queues", response_model=ItemOut, status_code=201)
async def create_queue(body: QueueNew, actor: ActorDep, state: StateDep) -> ItemOut:
    """A new queue; a name already in use (built in included) is a 409."""
    async with state.unit_of_work() as session:
        obj, version = await service.put_item(
            session,
            actor=actor,
            kind="queue",
            key=body.name,
            data=body.model_dump(
                exclude={"version", "name"} | ({"members"} if body.members is None else set())
            ),
            version=0,
            defaults=default_config(state.settings),
            new=True,
        )
    return _out("queue", obj, version)


@router.get("/queues/{name}", response_model=ItemOut)
async def get_queue(name: str, actor: ActorDep, state: StateDep) -> ItemOut:
    service.require_configurer(actor)
    async with state.unit_of_work(read_only=True) as session:
        obj, version = await service.get_item(
            session, kind="queue", key=name, defaults=default_config(state.settings)
        )
    return _out("queue", obj, version)


@router.put("/queues/{name}", response_model=ItemOut)
async def put_queue(name: str, body: QueueIn, actor: ActorDep, state: StateDep) -> ItemOut:
    """Replace a queue's settings; `members` left out keeps whom it rings."""
    keep = {"version"} | ({"members"} if body.members is None else set())
    async with state.unit_of_work() as session:
        obj, version = await service.put_item(
            session,
            actor=actor,
            kind="queue",
            key=name,
            data=body.model_dump(exclude=keep),
            version=body.version,
            defaults=default_config(state.settings),
            merge=body.members is None,
        )
    return _out("queue", obj, version)


@router.put("/prompts/{name}/text", response_model=ItemOut)
async def put_prompt_text(
    name: str, body: PromptTextIn, actor: ActorDep, state: StateDep
) -> ItemOut:
    async with state.unit_of_work() as session:
        obj, version = await uploads.set_prompt_text(
            session,
            actor=actor,
            name=name,
            text=body.text,
            version=body.version,
            defaults=default_config(state.settings),
        )
    return _out("prompt", obj, version)


@router.put("/prompts/{name}", response_model=ItemOut)
async def upload_prompt(
    name: str,
    file: UploadFile,
    version: Annotated[int, Form(ge=0, le=INT32_MAX)],
    actor: ActorDep,
    state: StateDep,
) -> ItemOut:
    """A recorded WAV heard instead of the synthesised prompt (multipart: file, version)."""
    service.require_configurer(actor)  # before reading a large body from a non-admin
    limit = state.settings.prompt_upload_max_bytes
    data = await file.read(limit + 1)  # one byte past the cap tells "too big" without more
    async with state.unit_of_work() as session:
        obj, new_version = await uploads.upload_prompt(
            session,
            actor=actor,
            name=name,
            data=data,
            version=version,
            directory=uploads.uploads_dir(state.settings.var_dir),
            max_bytes=limit,
            defaults=default_config(state.settings),
        )
    return _out("prompt", obj, new_version)


@router.delete("/prompts/{name}", response_model=ItemOut)
async def delete_upload(name: str, version: Int32, actor: ActorDep, state: StateDep) -> ItemOut:
    """Back to the synthesised prompt (`?version=` as read)."""
    async with state.unit_of_work() as session:
        obj, new_version = await uploads.remove_upload(
            session,
            actor=actor,
            name=name,
            version=version,
            defaults=default_config(state.settings),
        )
    return _out("prompt", obj, new_version)
