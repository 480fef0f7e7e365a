"""Domain events, published after commit on an in-process bus.

Services record events on the session (`record_event`); the unit of work publishes them
once the transaction has committed, so listeners never see a change that was rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import utcnow

PENDING_KEY = "hotline_pending_events"


@dataclass(frozen=True)
class DomainEvent:
    kind: str
    case_code: str | None = None
    unit_ids: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=lambda: utcnow().isoformat())

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["unit_ids"] = list(self.unit_ids)
        return out


def record_event(session: AsyncSession, event: DomainEvent) -> None:
    session.info.setdefault(PENDING_KEY, []).append(event)


def take_pending(session: AsyncSession) -> list[DomainEvent]:
    return list(session.info.pop(PENDING_KEY, []))


class EventBus:
    """Fan-out to subscribers in this process; slow subscribers drop, never block writers."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[DomainEvent]] = set()
        self._queue_size = queue_size

    def publish(self, event: DomainEvent) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[DomainEvent]]:
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
