"""REGISTER lockouts in the database: failed digests counted per SIP login and per source
address for all the phone-line processes together, and kept across their restarts.

The count is a fixed window (the first failure starts it; `window` seconds later the next
failure starts a new one), not the in-memory guard's sliding one: one row per key, updated
under its row lock, so two lines counting the same guesser at once add up instead of
overwriting each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import SipLockout
from hotline.db import dialect_name, insert_for


@dataclass(frozen=True)
class Budget:
    max_failures: int  # failures within `window` seconds that lock the key
    window: float
    lockout: float  # seconds of the first lockout; each further one doubles
    max_lockout: float  # the longest; quiet this long after its last lockout, it starts over


async def locked_keys(session: AsyncSession, keys: list[str], *, now: datetime) -> dict[str, float]:
    """The keys locked out at `now`, with their seconds left."""
    rows = await session.execute(
        select(SipLockout.key, SipLockout.locked_until).where(
            SipLockout.key.in_(keys), SipLockout.locked_until > now
        )
    )
    return {key: (until - now).total_seconds() for key, until in rows.all() if until is not None}


async def record_failure(
    session: AsyncSession, key: str, budget: Budget, *, now: datetime
) -> float:
    """Count a failure for `key`; the length of the lockout it starts, or 0 if none."""
    await session.execute(
        insert_for(dialect_name(session))(SipLockout)
        .values(key=key, failures=0, strikes=0, expires_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = (
        await session.scalars(select(SipLockout).where(SipLockout.key == key).with_for_update())
    ).one()
    max_lockout = timedelta(seconds=budget.max_lockout)
    if row.strikes and row.locked_until is not None and now - row.locked_until > max_lockout:
        row.strikes = 0  # quiet for a long while since its last lockout: start over
    window = timedelta(seconds=budget.window)
    if row.window_started_at is None or now - row.window_started_at > window:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    seconds = 0.0
    if row.failures >= budget.max_failures:
        seconds = min(budget.lockout * 2**row.strikes, budget.max_lockout)
        row.strikes += 1
        row.locked_until = now + timedelta(seconds=seconds)
        row.failures, row.window_started_at = 0, None
    ends = [now + window]
    if row.locked_until is not None:
        ends.append(row.locked_until + max_lockout)  # its strikes count until then
    row.expires_at = max(ends)
    await session.flush()
    return seconds


async def clear_lockout(session: AsyncSession, key: str) -> None:
    await session.execute(delete(SipLockout).where(SipLockout.key == key))


async def prune_lockouts(session: AsyncSession, *, now: datetime) -> int:
    """Delete the rows that say nothing any more; how many."""
    result = await session.execute(
        delete(SipLockout)
        .where(SipLockout.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
