"""Callers waiting in the phone line's queues now, as the web knows them.

The queues live in the line's process (telephony/acd.py); each line instance publishes them
as `queue.changed` events (telephony/queue_events.py): its instance name, how often it
repeats itself while callers wait (`heartbeat_seconds`), and per queue the callers waiting
and when the first of them arrived. A `QueueBoard` keeps the latest event of each instance
and sums them; an instance not heard of for STALE_HEARTBEATS heartbeats is left out, so a
line that died with callers on hold does not show them for ever. A page reads the board
from the event log (`read_line_queue`); a live stream keeps one up to date from the events
it receives (web/sse.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.events import DomainEvent, EventRow

QUEUE_CHANGED = "queue.changed"
STALE_HEARTBEATS = 3
# The longest heartbeat a line may be set to (HOTLINE_SIP_QUEUE_HEARTBEAT_SECONDS, 300 s):
# events older than three of them can no longer count.
LOOK_BACK = timedelta(seconds=STALE_HEARTBEATS * 300)
READ_LIMIT = 2000


@dataclass(frozen=True)
class LineQueue:
    """Callers waiting in every live line's queues, and the arrival of the first of them."""

    waiting: int = 0
    oldest_at: datetime | None = None
    by_queue: dict[str, int] = field(default_factory=dict)
    # The arrival of the first caller waiting in each queue (a queue's own longest wait).
    oldest_by_queue: dict[str, datetime] = field(default_factory=dict)

    def wait_seconds(self, now: datetime, queue: str | None = None) -> int | None:
        """The longest wait in every queue, or in `queue` alone."""
        oldest = self.oldest_at if queue is None else self.oldest_by_queue.get(queue)
        if oldest is None:
            return None
        return max(0, int((now - oldest).total_seconds()))

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "waiting": self.waiting,
            "oldest_at": self.oldest_at.isoformat() if self.oldest_at else None,
            "wait_seconds": self.wait_seconds(now),
            "by_queue": self.by_queue,
        }


@dataclass(frozen=True)
class _Heard:
    id: int
    at: datetime
    heartbeat: float
    queues: dict[str, tuple[int, datetime]]


def _parse(event: DomainEvent) -> tuple[str, _Heard] | None:
    """The instance and its figures, or None for an event not of the expected shape."""
    data = event.data
    try:
        queues = {
            str(name): (int(q["waiting"]), datetime.fromisoformat(q["oldest_at"]))
            for name, q in dict(data.get("queues") or {}).items()
            if int(q["waiting"]) > 0
        }
        heard = _Heard(
            id=event.id or 0,
            at=datetime.fromisoformat(event.at),
            heartbeat=float(data["heartbeat_seconds"]),
            queues=queues,
        )
        return str(data["instance"]), heard
    except (KeyError, TypeError, ValueError):
        return None


class QueueBoard:
    """The latest `queue.changed` of each line instance."""

    def __init__(self) -> None:
        self._instances: dict[str, _Heard] = {}

    def apply(self, event: DomainEvent) -> None:
        """Take an event in; an older one than this instance's latest is ignored."""
        if event.kind != QUEUE_CHANGED:
            return
        parsed = _parse(event)
        if parsed is None:
            return
        instance, heard = parsed
        known = self._instances.get(instance)
        if known is None or (heard.id, heard.at) >= (known.id, known.at):
            self._instances[instance] = heard

    def now(self, at: datetime) -> LineQueue:
        """The sum over the instances heard of within STALE_HEARTBEATS of their heartbeat."""
        waiting, oldest = 0, None
        by_queue: dict[str, int] = {}
        firsts: dict[str, datetime] = {}
        for heard in self._instances.values():
            if at - heard.at > timedelta(seconds=STALE_HEARTBEATS * heard.heartbeat):
                continue
            for name, (n, first) in heard.queues.items():
                waiting += n
                by_queue[name] = by_queue.get(name, 0) + n
                firsts[name] = min(firsts.get(name, first), first)
                oldest = first if oldest is None else min(oldest, first)
        return LineQueue(
            waiting=waiting,
            oldest_at=oldest,
            by_queue=dict(sorted(by_queue.items())),
            oldest_by_queue=firsts,
        )


async def read_board(session: AsyncSession, *, actor: Actor, now: datetime) -> QueueBoard:
    """The lines' latest figures from the event log (hotline staff: RECORD_CALLS).

    The literal kind lets both databases use the partial index ix_event_queue_changed (a
    bound parameter would not match its predicate), so this reads the recent queue events
    only, however long the log."""
    require(actor, Permission.RECORD_CALLS)
    stmt = (
        select(EventRow)
        .where(text(f"event.kind = '{QUEUE_CHANGED}'"), EventRow.at >= now - LOOK_BACK)
        .order_by(EventRow.at.desc())
        .limit(READ_LIMIT)
    )
    board = QueueBoard()
    for row in (await session.scalars(stmt)).all():
        board.apply(DomainEvent.of_row(row))
    return board


async def read_line_queue(session: AsyncSession, *, actor: Actor, now: datetime) -> LineQueue:
    """Callers waiting in the phone line's queues now (hotline staff)."""
    return (await read_board(session, actor=actor, now=now)).now(now)
