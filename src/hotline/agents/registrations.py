"""Operators' phone registrations as the phone line keeps them in the database: the latest
binding per SIP login, so a restarted or second line process rings the phone at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import SipRegistration
from hotline.db import utcnow


async def save_registration(
    session: AsyncSession,
    *,
    username: str,
    contact: str,
    received: tuple[str, int],
    expires_at: datetime,
    path: tuple[str, ...] = (),
    instance: str | None,
) -> None:
    """The phone's latest binding replaces its previous one (wherever that was taken)."""
    row = await session.get(SipRegistration, username)
    if row is None:
        row = SipRegistration(username=username)
        session.add(row)
    row.contact = contact[:500]
    row.received_host, row.received_port = received[0][:64], received[1]
    row.path = list(path) or None
    row.expires_at, row.updated_at, row.instance = expires_at, utcnow(), instance
    await session.flush()


async def remove_registration(session: AsyncSession, *, username: str) -> None:
    """The phone unregistered (expires 0, or `Contact: *`)."""
    await session.execute(delete(SipRegistration).where(SipRegistration.username == username))


async def live_registrations(session: AsyncSession, *, now: datetime) -> list[SipRegistration]:
    """The bindings not expired at `now`. An expired row is never used (and is deleted by
    `prune_registrations`)."""
    rows = await session.scalars(select(SipRegistration).where(SipRegistration.expires_at > now))
    return list(rows.all())


async def prune_registrations(session: AsyncSession, *, now: datetime) -> int:
    """Delete the bindings expired at `now` (the phone line does, at start and then
    periodically); how many. A phone registering again meanwhile writes a new row."""
    result = await session.execute(
        delete(SipRegistration)
        .where(SipRegistration.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
