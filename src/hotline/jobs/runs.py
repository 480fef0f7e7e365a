"""What a job handler is: a function of a session and the job's payload, run in one
transaction; or one that commits its own steps (`in_steps`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
