"""The worker's waits: how long until a job falls due, waiting on an event with a bound, and
living through a database it cannot reach for a while."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import structlog

from hotline.db import utcnow

log = structlog.get_logger("hotline.worker")

MIN_WAIT = 0.05  # a job due but not claimed is locked by another worker's claim: look again
DB_RETRY = 5.0  # seconds before the worker tries a database it could not reach again


@contextlib.contextmanager
def unreachable(what: str) -> Iterator[None]:
    """Log a failure of the worker's bookkeeping (the database restarting, its connections
    used up) and go on: exiting would leave every reply unsent until a restart."""
    try:
        yield
    except Exception as exc:
        log.warning(what, error=f"{type(exc).__name__}: {exc}")


def seconds_until(when: datetime | None) -> float | None:
    """Seconds until `when` (naive: UTC, as SQLite gives it back), at least MIN_WAIT."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(MIN_WAIT, (when - utcnow()).total_seconds())


async def wait_for(event: asyncio.Event, timeout: float | None) -> None:
    """Until `event` is set or `timeout` seconds have passed (None: no limit)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


def sooner(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(0.0, min(a, b))  # None: no limit
