"""What a job handler is: a function of a session and the job's payload, run in one
transaction; or one that commits its own steps (`in_steps`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobRun:
    """What a handler that commits its own steps is given (`in_steps`): a handler that
    calls a provider between two transactions, so that no transaction (nor SQLite's write
    lock) is held while it waits on the network, and whose first step's writes survive a
    failure of the call."""

    id: int
    kind: str
    attempts: int  # this run included
    max_attempts: int
    steps: Callable[[], AbstractAsyncContextManager[AsyncSession]]

    @property
    def last(self) -> bool:
        return self.attempts >= self.max_attempts


StepsHandler = Callable[[JobRun, dict[str, Any]], Awaitable[None]]


def in_steps(fn: StepsHandler) -> Handler:
    """Mark a handler as committing its own steps (it is called with a `JobRun`)."""
    fn.in_steps = True  # type: ignore[attr-defined]
    return fn  # type: ignore[return-value]


@dataclass(frozen=True)
class Batch:
    """What a batched handler (`batched`) is given: jobs of its kind claimed together, so
    that one transaction serves many of them. The handler records jobs' outcomes with
    `finish` (job id, error or None when done; `base`: the first retry's wait in seconds)
    inside a transaction of its own `steps`, the same one that records what the jobs did,
    then calls `settled` with those ids once it committed, which frees their places in the
    worker. A job it never settles is retried later (after an exception, with that error)."""

    runs: tuple[JobRun, ...]
    payloads: tuple[dict[str, Any], ...]
    steps: Callable[[], AbstractAsyncContextManager[AsyncSession]]
    finish: Callable[[AsyncSession, Sequence[tuple[int, str | None]], float], Awaitable[None]]
    settled: Callable[[Sequence[int]], None]


BatchHandler = Callable[[Batch], Awaitable[None]]


def batched(fn: BatchHandler) -> Handler:
    """Mark a handler as taking its kind's jobs in batches (it is called with a `Batch`)."""
    fn.batched = True  # type: ignore[attr-defined]
    return fn  # type: ignore[return-value]
