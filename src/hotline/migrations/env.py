"""Alembic environment: async engines, the project's metadata, batch mode on SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from hotline.db import UTCDateTime
from hotline.models import metadata
from hotline.settings import normalise_database_url

config = context.config


def _render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import hotline.db")
        return "hotline.db.UTCDateTime()"
    return False


def _do_run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run() -> None:
    url = normalise_database_url(
        str(config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or "")
    )
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_do_run)
    await engine.dispose()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _do_run(connection)
        return
    asyncio.run(_run())


run()
