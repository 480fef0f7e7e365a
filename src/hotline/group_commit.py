"""Group commit on an asyncpg pool: writes that arrive while every lane is busy go out
together in one statement.

A writer keeps a few connections ("lanes"). A write that finds a lane free starts it at
once, and the lane takes what has queued by then: usually just that write, a batch of one.
While every lane is busy, new writes queue, and the next free lane takes all of them (up to
`max_batch`). Nothing is answered before its batch has committed. Case intake
(cases/intake_batch.py) and webhook events (channels/hooks_batch.py) say how a batch is
written and what a failed one means for each write; the lanes and the queue are here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

import asyncpg

P = TypeVar("P")  # one write's parameters
R = TypeVar("R")  # its answer


class GroupWriter(Generic[P, R]):
    """One per web process (web/state.py). `lanes` is how many statements run at once; each
    lane holds one pool connection while it writes, so more lanes than connections would
    only queue for them. Subclasses write a batch in `_write`, settling every future."""

    def __init__(self, pool: asyncpg.Pool, *, lanes: int, max_batch: int) -> None:
        self.pool = pool
        self.lanes = lanes
        self.max_batch = max_batch
        self._queue: deque[tuple[P, asyncio.Future[R]]] = deque()
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # Statements sent so far: with the writes made, how well they are being grouped.
        self.statements = 0

    async def submit(self, params: P) -> R:
        """Queue one write and return its answer once its batch has committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        # Read the outcome even if the caller has gone away, so that a failure is not
        # also reported as "exception never retrieved".
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append((params, future))
        if self._busy < self.lanes:
            self._busy += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: a caller that goes away must not cancel a write its batch still makes.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Finish what is queued (app shutdown, before the pool closes)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._queue:
                count = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    await self._write(batch)
                except BaseException as exc:
                    # Cancelled (shutdown): nobody may be left waiting.
                    for _, future in batch:
                        settle(future, exc)
                    raise
        finally:
            # In the same step as the last look at the queue, not in a done callback: a
            # write queued in between would find every lane counted busy and wait for the
            # next write to start one. (A lane cancelled before it starts, which only loop
            # shutdown does, stays counted.)
            self._busy -= 1

    async def _write(self, batch: list[tuple[P, asyncio.Future[R]]]) -> None:
        raise NotImplementedError


def settle(future: asyncio.Future[R], exc: BaseException) -> None:
    """Fail a write not answered yet with `exc` (cancel it when that is a cancellation)."""
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
