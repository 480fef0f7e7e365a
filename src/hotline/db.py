"""Database plumbing: declarative base, engine factory, SQLite pragmas, session helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    # Parameters stay out of echoed statements and of database errors (which end up in
    # logs and tracebacks): they carry channel secrets, tokens and personal data.
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": 30}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # Pre-ping: a pooled connection that died with a database restart or failover is
    # replaced before use instead of failing the first requests after it.
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling is turned off so that BEGIN IMMEDIATE below
    # takes the write lock up front: two writers then queue on busy_timeout instead of
    # failing later with "database is locked" on lock upgrade.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# Execution option marking a connection's transactions as reads only (read_only_engine).
READ_ONLY_OPTION = "hotline_read_only"


# Session info keys of a read-only unit of work (web/state.py): the marker, and the rows to
# write once it has ended. A read that must leave a trace (the personal-data read log) is
# written in a short transaction of its own right after, before the answer leaves.
READ_ONLY_SESSION = "hotline_read_only"
WRITE_AFTER = "hotline_write_after"


def is_read_only(session: Any) -> bool:
    """Whether this session's transaction may not write (a read-only unit of work)."""
    return bool(session.info.get(READ_ONLY_SESSION))


def write_after(session: Any, rows: list[Any]) -> None:
    """New rows to insert once this read-only unit of work has ended (its own
    transaction: a READ ONLY transaction refuses them on PostgreSQL)."""
    session.info.setdefault(WRITE_AFTER, []).extend(rows)


def _sqlite_begin(conn: Any) -> None:
    # Reads begin DEFERRED: in WAL mode they take no lock at all, so any number run beside
    # each other and beside the one writer. A read-only transaction that tried to write
    # would have to upgrade its lock and could fail at once with "database is locked".
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN DEFERRED")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for transactions that only read: BEGIN DEFERRED on SQLite
    (no write lock), a READ ONLY transaction on PostgreSQL (a write in it is an error)."""
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def make_sessionmaker(engine: AsyncEngine, site: Any) -> async_sessionmaker[AsyncSession]:
    """Sessions that carry the site (timezone, limits) for the services to read."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True, info={"site": site})


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back whole on any error."""
    async with sessionmaker() as session, session.begin():
        yield session


def insert_for(dialect_name: str) -> Any:
    """The dialect's INSERT, which supports ON CONFLICT on both PostgreSQL and SQLite."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def enum_column(enum_cls: Any, length: int = 20) -> Any:
    """A portable enum stored as its lowercase value (readable in SQL), checked by Python."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def dialect_name(session: AsyncSession) -> str:
    """'postgresql' or 'sqlite', for the few statements that differ between engines."""
    bind = session.get_bind()
    return str(bind.dialect.name)
