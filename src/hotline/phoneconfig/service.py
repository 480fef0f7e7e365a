"""Reading and changing the phone configuration: versioned, validated, audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.directory.models import Unit
from hotline.directory.service import check_category
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg
from hotline.phoneconfig import validate
from hotline.phoneconfig.models import PhoneConfigChange, PhoneConfigItem
from hotline.phoneconfig.schemas import (
    Destination,
    Line,
    Menu,
    PhoneConfig,
    PromptText,
    Queue,
)

# kind -> (the PhoneConfig list it lives in, its schema, the field that is its key)
KINDS: dict[str, tuple[str, type[BaseModel], str]] = {
    "line": ("lines", Line, "number"),
    "menu": ("menus", Menu, "name"),
    "destination": ("destinations", Destination, "name"),
    "queue": ("queues", Queue, "name"),
    "prompt": ("prompts", PromptText, "name"),
}


@dataclass
class LoadedConfig:
    config: PhoneConfig
    version: int  # the highest change id: 0 until an administrator changes something
    versions: dict[tuple[str, str], int]  # per object; 0 for a built-in default


def require_configurer(actor: Actor) -> None:
    """Refuse anyone who may not change the phone line's settings (administrators may)."""
    require(actor, Permission.CONFIGURE_PHONE)


async def config_version(session: AsyncSession) -> int:
    """What the phone line polls: one indexed max(), cheap every few seconds."""
    return int(await session.scalar(select(func.max(PhoneConfigChange.id))) or 0)


async def load_config(session: AsyncSession, *, defaults: PhoneConfig) -> LoadedConfig:
    """The built-in defaults with every stored object laid over them."""
    version = await config_version(session)
    rows = (await session.scalars(select(PhoneConfigItem).order_by(PhoneConfigItem.id))).all()
    lists: dict[str, dict[str, BaseModel]] = {}
    for kind, (attr, _schema, key_field) in KINDS.items():
        lists[kind] = {getattr(o, key_field): o for o in getattr(defaults, attr)}
    versions: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.kind not in KINDS:
            continue
        _attr, schema, _key = KINDS[row.kind]
        lists[row.kind][row.key] = schema.model_validate(row.data)
        versions[(row.kind, row.key)] = row.version
    config = PhoneConfig.model_validate(
        {KINDS[kind][0]: [o.model_dump() for o in items.values()] for kind, items in lists.items()}
    )
    return LoadedConfig(config, version, versions)


def _check(kind: str, obj: BaseModel, config: PhoneConfig) -> None:
    if isinstance(obj, Destination):
        validate.check_destination(obj)
    elif isinstance(obj, Menu):
        validate.check_menu(obj, config)
    elif isinstance(obj, Line):
        validate.check_line(obj, config)
    elif isinstance(obj, Queue):
        validate.check_queue(obj, config)


async def _check_queue_data(session: AsyncSession, queue: Queue) -> None:
    """What only the database knows: the members' units and the voicemail category exist."""
    if queue.members.units:
        known = set(
            await session.scalars(select(Unit.code).where(Unit.code.in_(queue.members.units)))
        )
        for i, code in enumerate(queue.members.units):
            if code not in known:
                raise InvalidInput(
                    msg("Không có đơn vị mã '{code}'", code=code), field=f"members.units[{i}]"
                )
    if queue.category is not None:
        await check_category(session, queue.category, field="category")


def _replace(config: PhoneConfig, kind: str, obj: BaseModel) -> PhoneConfig:
    attr, _schema, key_field = KINDS[kind]
    key = getattr(obj, key_field)
    items = [o for o in getattr(config, attr) if getattr(o, key_field) != key] + [obj]
    return config.model_copy(update={attr: items})


async def put_item(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: str,
    key: str,
    data: dict[str, Any],
    version: int,
    defaults: PhoneConfig,
    action: str = "put",
    new: bool = False,
    merge: bool = False,
) -> tuple[BaseModel, int]:
    """Create or replace one object if `version` is still current (else Conflict), after
    checking it against the rest of the configuration; the change goes on the audit trail.
    `new`: only create (a Conflict naming the key if the name is taken, a built-in default's
    included). `merge`: the fields `data` leaves out keep their current values (a form
    that shows only some of them). Returns the object and its new version."""
    require_configurer(actor)
    attr, schema, key_field = KINDS[kind]
    loaded = await load_config(session, defaults=defaults)
    if merge:
        current_obj = next(
            (o for o in getattr(loaded.config, attr) if getattr(o, key_field) == key), None
        )
        if current_obj is not None:
            data = {**current_obj.model_dump(mode="json"), **data}
    try:
        # The key comes from the URL, not the checked body: validated here with the rest.
        obj = schema.model_validate({**data, key_field: key})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = validate.error_field(first) or key_field
        raise InvalidInput(validate.error_message(first), field=field) from None
    if new and any(getattr(o, key_field) == key for o in getattr(loaded.config, attr)):
        raise Conflict(msg("Đã có mục tên '{key}'", key=key), field=key_field)
    _check(kind, obj, _replace(loaded.config, kind, obj))
    if isinstance(obj, Queue):
        await _check_queue_data(session, obj)
    before = next(
        (
            o.model_dump(mode="json")
            for o in getattr(loaded.config, attr)
            if getattr(o, key_field) == key
        ),
        None,
    )
    after = obj.model_dump(mode="json")
    current = loaded.versions.get((kind, key), 0)
    stale = Conflict(
        msg(
            "Cấu hình đã được người khác sửa (phiên bản hiện tại {current}); tải lại rồi sửa",
            current=current,
        ),
        field="version",
    )
    if version != current:
        raise stale
    if current == 0:
        try:
            async with session.begin_nested():  # a concurrent first edit: their row won
                session.add(
                    PhoneConfigItem(
                        kind=kind, key=key, data=after, version=1, updated_by=actor.user_id
                    )
                )
        except IntegrityError:
            raise stale from None
    else:
        result = await session.execute(
            update(PhoneConfigItem)
            .where(
                PhoneConfigItem.kind == kind,
                PhoneConfigItem.key == key,
                PhoneConfigItem.version == version,
            )
            .values(data=after, version=version + 1, updated_at=utcnow(), updated_by=actor.user_id)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise stale
    session.add(
        PhoneConfigChange(
            user_id=actor.user_id, kind=kind, key=key, action=action, before=before, after=after
        )
    )
    await session.flush()
    return obj, version + 1


async def get_item(
    session: AsyncSession, *, kind: str, key: str, defaults: PhoneConfig
) -> tuple[BaseModel, int]:
    loaded = await load_config(session, defaults=defaults)
    attr, _schema, key_field = KINDS[kind]
    for obj in getattr(loaded.config, attr):
        if getattr(obj, key_field) == key:
            return obj, loaded.versions.get((kind, key), 0)
    raise NotFound(msg("Không tìm thấy {kind} '{key}'", kind=kind, key=key), field="name")


async def list_changes(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int = 100,
    kind: str | None = None,
    key: str | None = None,
) -> list[PhoneConfigChange]:
    """The audit trail, newest first: all of it, or one object's (kind and key)."""
    require_configurer(actor)
    stmt = select(PhoneConfigChange).order_by(PhoneConfigChange.id.desc()).limit(min(limit, 500))
    if kind is not None:
        stmt = stmt.where(PhoneConfigChange.kind == kind)
    if key is not None:
        stmt = stmt.where(PhoneConfigChange.key == key)
    return list((await session.scalars(stmt)).all())


async def list_items(
    session: AsyncSession, *, actor: Actor, kind: str, defaults: PhoneConfig
) -> list[tuple[BaseModel, int]]:
    """Every object of one kind (stored or built in) with its version (administrators)."""
    require_configurer(actor)
    loaded = await load_config(session, defaults=defaults)
    attr, _schema, key_field = KINDS[kind]
    return [
        (o, loaded.versions.get((kind, getattr(o, key_field)), 0))
        for o in getattr(loaded.config, attr)
    ]
