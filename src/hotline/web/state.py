"""What the app holds for its lifetime: settings, engine, sessionmaker, event bus, caches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.auth.service import TokenCache
from hotline.events import EventBus, take_pending
from hotline.settings import Settings
from hotline.site import Site
from hotline.web.ratelimit import FailureLimiter


@dataclass
class AppState:
    settings: Settings
    site: Site
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: EventBus
    tokens: TokenCache
    logins: FailureLimiter = field(default_factory=FailureLimiter)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit and then publish its events, or roll back whole.

        Files written during a transaction that rolls back are removed again.
        """
        async with self.sessionmaker() as session:
            try:
                async with session.begin():
                    yield session
            except BaseException:
                for path in session.info.pop("on_rollback_unlink", []):
                    Path(path).unlink(missing_ok=True)
                take_pending(session)
                raise
            session.info.pop("on_rollback_unlink", None)
            for event in take_pending(session):
                self.bus.publish(event)
