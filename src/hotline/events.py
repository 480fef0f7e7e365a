"""Domain events: written to the event log in the transaction that makes them.

Services record events on the session (`record_event`): the row goes into the `event`
table with the rest of the transaction, so an event exists exactly when its change was
committed, whichever process made it (web, worker, CLI, phone line). `committed` is the one
unit of work every process uses: commit, then wake the readers. Readers (web processes'
`eventfeed.EventFeed`) tail the log by id and deliver to their subscribers in id order; a
wake-up only makes them read sooner (docs/architecture.md, "Live events").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, JSONType, UTCDateTime, utcnow
from hotline.ids import BigId

WROTE_KEY = "hotline_wrote_events"


class EventRow(Base):
    """One committed domain event. Ids increase; they may commit out of order on
    PostgreSQL (eventfeed.py waits for such gaps)."""

    __tablename__ = "event"
    __table_args__ = (
        # The phone line's queue figures, read by time (calls/line_queue.py); partial, so
        # the many other events (one per intake) cost it nothing.
        Index(
            "ix_event_queue_changed",
            "at",
            sqlite_where=text("kind = 'queue.changed'"),
            postgresql_where=text("kind = 'queue.changed'"),
        ),
        # AUTOINCREMENT on SQLite: an id is never reused, even once the newest rows are pruned.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(60))
    case_code: Mapped[str | None] = mapped_column(String(20))
    unit_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


@dataclass(frozen=True)
class DomainEvent:
    kind: str
    case_code: str | None = None
    unit_ids: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=lambda: utcnow().isoformat())
    # The log's id, once read back from it (None before it is written).
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["unit_ids"] = list(self.unit_ids)
        return out

    @classmethod
    def of_row(cls, row: Any) -> DomainEvent:
        return cls(
            kind=row.kind,
            case_code=row.case_code,
            unit_ids=tuple(row.unit_ids or ()),
            data=dict(row.data or {}),
            at=row.at.isoformat(),
            id=row.id,
        )


def record_event(session: AsyncSession, event: DomainEvent) -> None:
    """Write the event in the session's transaction; readers are woken after commit."""
    session.add(
        EventRow(
            at=datetime.fromisoformat(event.at),
            kind=event.kind,
            case_code=event.case_code,
            unit_ids=list(event.unit_ids),
            data=event.data,
        )
    )
    mark_written(session)


def mark_written(session: AsyncSession) -> None:
    """The transaction wrote event rows by other means (intake's SQL): wake after commit."""
    session.info[WROTE_KEY] = True


def take_written(session: AsyncSession) -> bool:
    return bool(session.info.pop(WROTE_KEY, False))


Wake = Callable[[], None]


@contextlib.asynccontextmanager
async def committed(
    sessionmaker: Callable[[], AsyncSession], wake: Wake | None
) -> AsyncIterator[AsyncSession]:
    """One transaction, with its events in it: commit, then wake the readers of the log.

    Rolled back whole on an exception, events included. The helper of every process (web
    unit of work, worker, CLI, phone line)."""
    async with sessionmaker() as session:
        try:
            async with session.begin():
                yield session
        except BaseException:
            take_written(session)
            raise
        wrote = take_written(session)
    if wrote and wake is not None:
        wake()


async def read_after(
    session: AsyncSession,
    after: int,
    *,
    upto: int | None = None,
    limit: int = 1000,
    exclude: tuple[str, ...] = (),
) -> list[DomainEvent]:
    """Logged events with after < id (<= upto), oldest first, at most `limit`, leaving
    out the kinds in `exclude`."""
    stmt = select(EventRow).where(EventRow.id > after).order_by(EventRow.id).limit(limit)
    if upto is not None:
        stmt = stmt.where(EventRow.id <= upto)
    if exclude:
        stmt = stmt.where(EventRow.kind.not_in(exclude))
    return [DomainEvent.of_row(row) for row in (await session.scalars(stmt)).all()]


async def oldest_id(session: AsyncSession) -> int | None:
    return await session.scalar(select(EventRow.id).order_by(EventRow.id).limit(1))


async def prune_events(session: AsyncSession, *, keep_hours: float) -> int:
    """Delete events older than `keep_hours` (the worker, on its schedule).

    By id below the first recent one: ids grow with time, and no index on `at` is kept for
    this (every intake writes a row). The newest event always stays."""
    cutoff = utcnow() - timedelta(hours=keep_hours)
    first_recent = await session.scalar(
        select(EventRow.id).where(EventRow.at >= cutoff).order_by(EventRow.id).limit(1)
    )
    if first_recent is None:
        first_recent = await session.scalar(
            select(EventRow.id).order_by(EventRow.id.desc()).limit(1)
        )
    if first_recent is None:
        return 0
    result = await session.execute(delete(EventRow).where(EventRow.id < first_recent))
    return int(getattr(result, "rowcount", 0) or 0)


class Subscription(asyncio.Queue[DomainEvent]):
    """A subscriber's queue. `overflowed`: events were lost because it was full; the
    subscriber must catch up from the log (the SSE stream ends, the client resumes)."""

    overflowed = False


class EventBus:
    """Fan-out to subscribers in this process; a slow subscriber overflows, never blocks."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size
        # Called as each subscriber joins: the process's feed reads the log then, having
        # skipped the wake-ups that came while nobody listened (eventfeed.py).
        self.on_subscribe: Callable[[], None] | None = None

    def publish(self, event: DomainEvent) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                queue.overflowed = True

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        queue = Subscription(self._queue_size)
        self._subscribers.add(queue)
        if self.on_subscribe is not None:
            self.on_subscribe()
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
