"""The line's queues as events: how many callers wait in each queue and when the first of
them arrived, written to the event log so that every web process can show them (the
console's bar, the dashboard's wallboard). The queues themselves live only in this process
(acd.py); the event is how the web learns of them, with or without Redis.

`queue.changed` carries the whole picture of this instance (every queue with callers in it),
so a reader needs only the latest one per instance. It is written when a caller joins or
leaves, coalesced to at most one per `min_interval` (a surge of callers costs one event a
second, not one per caller), and again every `heartbeat` seconds while callers wait: a web
process that starts late, or a line that restarted, has fresh figures within one heartbeat,
and a reader drops an instance not heard of for three heartbeats (a line that died with
callers on hold stops counting). An idle line writes nothing: its last event says no one
waits. No caller's number or name is in it: counts and a time only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

from hotline.calls.line_queue import QUEUE_CHANGED
from hotline.events import DomainEvent

log = structlog.get_logger("hotline.telephony.queue_events")

# Queue name -> (callers waiting, when the first of them joined).
Waiting = dict[str, tuple[int, datetime]]


def queue_event(instance: str, waiting: Waiting, heartbeat: float) -> DomainEvent:
    return DomainEvent(
        kind=QUEUE_CHANGED,
        data={
            "instance": instance,
            "heartbeat_seconds": heartbeat,
            "queues": {
                name: {"waiting": n, "oldest_at": oldest.isoformat()}
                for name, (n, oldest) in sorted(waiting.items())
            },
        },
    )


class QueuePublisher:
    """Writes `queue.changed` for one line instance, from its own task (never the media path)."""

    def __init__(
        self,
        read: Callable[[], Waiting],
        write: Callable[[DomainEvent], Awaitable[None]],
        *,
        instance: str,
        min_interval: float = 1.0,
        heartbeat: float = 5.0,
    ) -> None:
        self.read = read
        self.write = write
        self.instance = instance
        self.min_interval = min_interval
        self.heartbeat = heartbeat
        self.written = 0
        self._wanted = asyncio.Event()
        self._sent: Waiting | None = None  # what the last event said (None: nothing yet)
        self._last = float("-inf")  # loop time of the last write
        self._task: asyncio.Task[None] | None = None

    def changed(self) -> None:
        """A caller joined or left a queue: publish soon (coalesced)."""
        self._wanted.set()

    def start(self) -> None:
        # The first event says what waits now (nobody, at start-up): it replaces whatever
        # this instance published before it restarted.
        self._wanted.set()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop, saying once more what waits (nobody, once the calls have ended)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.read() != self._sent:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._publish(self.read()), 5)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # Heartbeats only while someone waits; after an event saying nobody does, a
            # reader that drops this instance as silent counts it as nobody anyway.
            timeout = max(0.0, self._last + self.heartbeat - loop.time()) if self._sent else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), timeout)
            # Joins and leaves within min_interval of the last event go out as one.
            delay = self._last + self.min_interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._wanted.clear()
            now = self.read()
            due = loop.time() - self._last >= self.heartbeat
            if now == self._sent and not (due and now):
                continue
            try:
                await self._publish(now)
            except Exception as exc:  # the database is away: try again a little later
                log.warning("queue_event_failed", error=str(exc).splitlines()[0])
                self._last = loop.time()
                await asyncio.sleep(max(self.min_interval, 1.0))
                self._wanted.set()

    async def _publish(self, waiting: Waiting) -> None:
        await self.write(queue_event(self.instance, waiting, self.heartbeat))
        self._sent = waiting
        self._last = asyncio.get_running_loop().time()
        self.written += 1
