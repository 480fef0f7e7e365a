"""The administrators' audit trail: who changed an account, a category, a unit or the
active triage model, and when.

Each service that makes such a change calls `record_change` in the same transaction, so a
change and its entry are committed or rolled back together. The phone configuration keeps
its own trail (`phone_config_change`) and the knowledge base its articles' revisions.
Before and after hold the settings an administrator sees, never a secret: `record_change`
refuses a password, a hash or a SIP digest, whichever service passes one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import AdminChange
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.errors import InvalidInput
from hotline.messages import msg

# What each kind of object is, and the permission that shows its trail: whoever may see
# the object may see who changed it.
KINDS: dict[str, Permission] = {
    "user": Permission.VIEW_USERS,
    "category": Permission.MANAGE_DIRECTORY,
    "unit": Permission.MANAGE_DIRECTORY,
    "triage_model": Permission.VIEW_TRIAGE_MODELS,
    "channel": Permission.MANAGE_CHANNELS,
    "saved_reply": Permission.EDIT_KNOWLEDGE,
}
SECRETS = frozenset({"password", "password_hash", "sip_password", "sip_ha1", "ha1", "blob"})
MAX_LIMIT = 500


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    leaked = SECRETS & set(values)
    if leaked:
        # A programming error, not a user's: the trail must never hold a credential.
        raise ValueError(f"secrets in an audit entry: {sorted(leaked)}")
    return dict(values)


def record_change(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: str,
    key: object,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AdminChange:
    """Add one entry to the trail in the caller's transaction (flushed with the change)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of audited object: {kind}")
    entry = AdminChange(
        user_id=actor.user_id,
        kind=kind,
        key=str(key),
        action=action,
        before=_clean(before),
        after=_clean(after),
    )
    session.add(entry)
    return entry


def require_reader(actor: Actor, kind: str | None) -> None:
    """The trail of one kind for those who may see that kind of object; the whole trail for
    those who may see every kind (administrators)."""
    if kind is None:
        for permission in dict.fromkeys(KINDS.values()):
            require(actor, permission)
        return
    if kind not in KINDS:
        raise InvalidInput(msg("Không có loại đối tượng '{kind}'", kind=kind), field="kind")
    require(actor, KINDS[kind])


async def list_changes(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: str | None = None,
    key: str | None = None,
    limit: int = 100,
) -> list[AdminChange]:
    """The trail, newest first, of one object (kind and key), one kind, or all of it."""
    require_reader(actor, kind)
    if key is not None and kind is None:
        raise InvalidInput("Cần loại đối tượng khi lọc theo khoá", field="kind")
    stmt = select(AdminChange).order_by(AdminChange.id.desc()).limit(min(limit, MAX_LIMIT))
    if kind is not None:
        stmt = stmt.where(AdminChange.kind == kind)
    if key is not None:
        stmt = stmt.where(AdminChange.key == key)
    return list((await session.scalars(stmt)).all())


async def last_changes(
    session: AsyncSession, *, actor: Actor, kind: str, keys: Iterable[object] | None = None
) -> dict[str, AdminChange]:
    """The latest entry of each object of a kind (of `keys` only, if given), by key: what a
    list shows as "last changed by X at T"."""
    require_reader(actor, kind)
    latest = select(func.max(AdminChange.id)).where(AdminChange.kind == kind)
    if keys is not None:
        latest = latest.where(AdminChange.key.in_([str(k) for k in keys]))
    rows = await session.scalars(
        select(AdminChange).where(AdminChange.id.in_(latest.group_by(AdminChange.key)))
    )
    return {row.key: row for row in rows.all()}


def differences(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each setting a change altered, in the order stored; every
    setting of a creation (before None)."""
    before, after = before or {}, after or {}
    fields = list(dict.fromkeys([*before, *after]))
    return [(f, before.get(f), after.get(f)) for f in fields if before.get(f) != after.get(f)]
