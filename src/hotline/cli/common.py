"""What every command shares: the settings, logging, one unit of work, the error console."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rich.console import Console

from hotline.settings import Settings, load_settings

console = Console(stderr=True)
T = TypeVar("T")


def run_in_uow(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    # Every model, before the first query: a command importing only its own service (auth's
    # accounts) leaves the tables its models' foreign keys name (`unit`) unknown.
    import hotline.models  # noqa: F401
    from hotline.db import create_engine, make_sessionmaker
    from hotline.eventfeed import Waker
    from hotline.events import committed
    from hotline.site import Site

    async def main() -> T:
        engine = create_engine(settings.effective_database_url)
        # The command's events go to the event log with its changes; the web processes
        # are woken before it exits.
        waker = Waker(settings, engine)
        await waker.start()
        try:
            sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
            async with committed(sessionmaker, waker) as session:
                return await work(session)
        finally:
            await waker.stop()
            await engine.dispose()

    return asyncio.run(main())


def command_settings() -> Settings:
    settings = load_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings


def start_logging(settings: Settings) -> None:
    from hotline.logs import configure_logging

    configure_logging(environment=settings.environment, level=settings.log_level)


def system_actor() -> Any:
    """The CLI runs as the machine's administrator."""
    from hotline.auth.service import SYSTEM

    return SYSTEM
