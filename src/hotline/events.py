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


class RedisEventBus(EventBus):
    """The memory bus plus Redis pub/sub, so every web process sees every commit's events.

    Events published here reach local subscribers at once and go to Redis; a listener task
    delivers other processes' events to local subscribers. Each process tags what it sends so
    it does not deliver its own events twice. The channel is `<prefix>:events`: processes of
    one deployment share a prefix (Settings.effective_redis_prefix), another deployment on the
    same Redis has its own.
    """

    def __init__(self, url: str, *, prefix: str, queue_size: int = 1000) -> None:
        super().__init__(queue_size)
        if not prefix:
            raise ValueError("a Redis channel prefix is required")
        self.channel = f"{prefix}:events"
        import uuid

        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[DomainEvent] = asyncio.Queue(queue_size)
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._listener = asyncio.create_task(self._listen(pubsub))
        self._sender = asyncio.create_task(self._send())

    async def stop(self) -> None:
        for task in (self._listener, self._sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._redis.aclose()

    def publish(self, event: DomainEvent) -> None:
        super().publish(event)
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait(event)

    async def _send(self) -> None:
        import json

        while True:
            event = await self._outbox.get()
            body = json.dumps(
                {"origin": self._origin, "event": event.as_json()}, ensure_ascii=False
            )
            try:
                await self._redis.publish(self.channel, body)
            except Exception:
                await asyncio.sleep(1)

    async def _listen(self, pubsub: object) -> None:
        import json

        async for message in pubsub.listen():  # type: ignore[attr-defined]
            if message.get("type") != "message":
                continue
            try:
                body = json.loads(message["data"])
            except (ValueError, TypeError):
                continue
            if body.get("origin") == self._origin:
                continue
            e = body["event"]
            EventBus.publish(
                self,
                DomainEvent(
                    kind=e["kind"],
                    case_code=e.get("case_code"),
                    unit_ids=tuple(e.get("unit_ids") or ()),
                    data=e.get("data") or {},
                    at=e.get("at") or utcnow().isoformat(),
                ),
            )
