"""Administrators connect, change and disable channels; secrets go in and never come out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.audit import record_change
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.channels.adapter import RegistersWebhook, SendError
from hotline.channels.inbox_pg import forget_channel
from hotline.channels.models import Channel
from hotline.channels.registry import adapter_for, check_kind
from hotline.db import utcnow
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.messages import msg

MAX_SETTING = 4000
MAX_LIST = 50
REGISTER_TIMEOUT = 15.0  # the provider calls our hook back before it answers
log = structlog.get_logger("hotline.channels")


class ProviderRefused(DomainError):
    status = 502
    title = msg("Nhà cung cấp từ chối yêu cầu")


def public_settings(channel: Channel) -> dict[str, Any]:
    """The settings an administrator may read back: every secret left out."""
    secrets = adapter_for(channel.kind).secrets
    return {k: v for k, v in channel.settings.items() if k not in secrets}


def secrets_set(channel: Channel) -> list[str]:
    """Which secrets are stored (their names only), so a form can say "set"."""
    secrets = adapter_for(channel.kind).secrets
    return sorted(k for k, v in channel.settings.items() if k in secrets and v)


def _audited(channel: Channel) -> dict[str, Any]:
    return {
        "kind": channel.kind,
        "name": channel.name,
        "enabled": channel.enabled,
        "settings": public_settings(channel),
        "secrets_set": secrets_set(channel),
    }


def _check_settings(kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    adapter = adapter_for(kind)
    clean: dict[str, Any] = {}
    for key, value in settings.items():
        clean[key] = _setting(key, value)
    for key in sorted(adapter.required):
        if clean.get(key) in (None, ""):
            raise InvalidInput(
                msg("Thiếu cấu hình bắt buộc: {key}", key=key), field=f"settings.{key}"
            )
    validate = getattr(adapter, "validate", None)
    if validate is not None:
        for key, problem in validate(clean):
            raise InvalidInput(problem, field=f"settings.{key}")
    return clean


def _setting(key: str, value: Any) -> Any:
    """A scalar, or a short list of texts (a web chat's allowed origins)."""
    if isinstance(value, list):
        if len(value) > MAX_LIST or not all(isinstance(item, str) for item in value):
            raise _bad_kind(key)
        return [_setting(key, item) for item in value]
    if not isinstance(value, str | int | float | bool):
        raise _bad_kind(key)
    if isinstance(value, str):
        value = value.strip()
        if len(value) > MAX_SETTING or "\x00" in value:
            raise InvalidInput(msg("Giá trị cấu hình không hợp lệ"), field=f"settings.{key}")
    return value


def _bad_kind(key: str) -> InvalidInput:
    return InvalidInput(
        msg("Giá trị cấu hình phải là chữ, số, đúng/sai hoặc danh sách chữ"),
        field=f"settings.{key}",
    )


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(msg("Tên kênh không được để trống (tối đa 200 ký tự)"), field="name")
    return name


def _registers(kind: str) -> bool:
    return getattr(adapter_for(kind), "register_webhook", None) is not None


def _check_public_url(kind: str, public_url: str) -> None:
    if _registers(kind) and not public_url.strip():
        raise InvalidInput(
            msg(
                "Kênh {kind} cần địa chỉ công khai của tổng đài để đăng ký webhook: "
                "hãy đặt HOTLINE_PUBLIC_URL",
                kind=kind,
            ),
            field="public_url",
        )


async def create_channel(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: str,
    name: str,
    settings: Mapping[str, Any],
    public_url: str = "",
) -> Channel:
    """Connect a provider account (administrators); audited without its secrets. A kind
    whose webhook the hotline registers itself (Viber) needs the public URL set."""
    require(actor, Permission.MANAGE_CHANNELS)
    check_kind(kind)
    _check_public_url(kind, public_url)
    channel = Channel(
        kind=kind,
        name=_name(name),
        settings=_check_settings(kind, settings),
        enabled=True,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(channel)
    await session.flush()
    record_change(
        session,
        actor=actor,
        kind="channel",
        key=channel.id,
        action="create",
        after=_audited(channel),
    )
    return channel


async def list_channels(session: AsyncSession, *, actor: Actor) -> list[Channel]:
    require(actor, Permission.MANAGE_CHANNELS)
    return list((await session.scalars(select(Channel).order_by(Channel.id))).all())


async def get_channel(
    session: AsyncSession, *, actor: Actor, channel_id: int, lock: bool = False
) -> Channel:
    require(actor, Permission.MANAGE_CHANNELS)
    channel = await session.get(Channel, channel_id, with_for_update=True if lock else None)
    if channel is None:
        raise NotFound(msg("Không có kênh {id}", id=channel_id), field="channel_id")
    return channel


async def update_channel(
    session: AsyncSession,
    *,
    actor: Actor,
    channel_id: int,
    name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    enabled: bool | None = None,
    public_url: str = "",
) -> tuple[Channel, Registration | None]:
    """Change a channel: settings are merged (a secret may be replaced, never read back;
    null removes an optional setting). Audited without secrets. A channel of a
    self-registering kind (Viber) re-enabled, or given new credentials or a new sender, gets
    its webhook registered again: returned for after the commit (it needs the public URL)."""
    # Locked before its settings are read: the worker stores a refreshed token pair under
    # this lock (outbox.py), and settings merged into a copy read before that commit would
    # put the spent single-use refresh token back.
    channel = await get_channel(session, actor=actor, channel_id=channel_id, lock=True)
    before = _audited(channel)
    reenabled = bool(enabled) and not channel.enabled
    if reenabled:
        _check_public_url(channel.kind, public_url)
    if name is not None:
        channel.name = _name(name)
    if settings is not None:
        merged = dict(channel.settings)
        for key, value in settings.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        channel.settings = _check_settings(channel.kind, merged)
    if enabled is not None:
        channel.enabled = enabled
    channel.updated_at = utcnow()
    await session.flush()
    forget_channel(channel.id)
    after = _audited(channel)
    changed_secrets = [
        k for k in adapter_for(channel.kind).secrets if settings is not None and k in settings
    ]
    if changed_secrets:
        after["secrets_replaced"] = sorted(changed_secrets)
    action = "update" if enabled is None else ("enable" if enabled else "disable")
    record_change(
        session,
        actor=actor,
        kind="channel",
        key=channel.id,
        action=action,
        before=before,
        after=after,
    )
    again = reenabled or bool(changed_secrets)
    return channel, registration_for(channel, public_url) if again else None


@dataclass(frozen=True)
class Registration:
    """A webhook to register with the provider, read from the channel in a transaction and
    registered after its commit (the provider checks the hook at once, and the hook must
    find the channel)."""

    channel_id: int
    kind: str
    settings: dict[str, Any]
    url: str


def registration_for(channel: Channel, public_url: str) -> Registration | None:
    """The webhook an enabled channel of a self-registering kind needs, else None."""
    if not channel.enabled or not _registers(channel.kind):
        return None
    _check_public_url(channel.kind, public_url)
    url = public_url.strip().rstrip("/") + f"/hooks/{channel.id}"
    return Registration(channel.id, channel.kind, dict(channel.settings), url)


async def registration(
    session: AsyncSession, *, actor: Actor, channel_id: int, public_url: str
) -> Registration:
    """What `register_webhook` will register for this channel (administrators)."""
    channel = await get_channel(session, actor=actor, channel_id=channel_id)
    if not _registers(channel.kind):
        raise InvalidInput(
            msg("Kênh {kind} không cần đăng ký webhook", kind=channel.kind), field="kind"
        )
    if not channel.enabled:
        raise InvalidInput(msg("Kênh đã bị tắt"), field="enabled")
    found = registration_for(channel, public_url)
    assert found is not None
    return found


async def register_webhook(registration: Registration) -> dict[str, Any]:
    """Point the provider at the channel's hook (Viber `set_webhook`), outside any
    transaction. `{"url", "registered", "error"}`; the error is the provider's reason,
    without secrets. Logged either way."""
    register = cast(RegistersWebhook, adapter_for(registration.kind)).register_webhook
    error = None
    try:
        timeout = aiohttp.ClientTimeout(total=REGISTER_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await register(registration.settings, registration.url, http)
    except SendError as exc:
        error = exc.reason
    log.info(
        "webhook_registered" if error is None else "webhook_refused",
        channel_id=registration.channel_id,
        kind=registration.kind,
        url=registration.url,
        error=error,
    )
    return {"url": registration.url, "registered": error is None, "error": error}
