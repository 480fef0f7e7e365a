"""The Alembic migrations build exactly the schema the models declare, and tear it down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from hotline.migrate import downgrade, upgrade
from hotline.models import metadata
from hotline.settings import normalise_database_url
from tests.conftest import PG_URL, _pg_admin

# PostgreSQL-only full-text search objects, created by raw SQL in the migrations and left out
# of the models on purpose (SQLite has no tsvector): the stored column case.search_vector and
# its GIN index ix_case_search_vector (0002), and the expression index ix_case_search_fts
# that 0001 created and 0002 dropped. Knowledge-base search (0005): on PostgreSQL the stored
# column article.search_vector and its GIN index; on SQLite the FTS5 table article_fts and
# the shadow tables FTS5 keeps for it.
IGNORED_INDEXES = {"ix_case_search_fts", "ix_case_search_vector", "ix_article_search_vector"}
IGNORED_COLUMNS = {("case", "search_vector"), ("article", "search_vector")}
IGNORED_TABLES = {
    "article_fts",
    "article_fts_config",
    "article_fts_data",
    "article_fts_docsize",
    "article_fts_idx",
}


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same engine as `database_url` (never migrated)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    assert PG_URL
    name = f"hotline_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = normalise_database_url(PG_URL).rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _ignored(diff: Any) -> bool:
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return all(_ignored(d) for d in diff)
    kind = diff[0]
    if kind in ("add_index", "remove_index"):
        return diff[1].name in IGNORED_INDEXES
    if kind == "remove_column":
        return (diff[2], diff[3].name) in IGNORED_COLUMNS
    if kind == "remove_table":
        return diff[1].name in IGNORED_TABLES
    return False


async def _drift(url: str) -> list[Any]:
    engine = create_async_engine(url)

    def compare(sync_conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))

    async with engine.connect() as conn:
        diffs = await conn.run_sync(compare)
    await engine.dispose()
    return [d for d in diffs if not _ignored(d)]


async def _tables(url: str, ignored: frozenset[str] | set[str] = IGNORED_TABLES) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names - ignored


def test_upgrade_to_head_matches_the_models_exactly(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert asyncio.run(_drift(fresh_url)) == []


def test_upgrade_creates_every_model_table(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert asyncio.run(_tables(fresh_url)) == set(metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_leaves_only_alembic_version(fresh_url: str) -> None:
    upgrade(fresh_url)
    downgrade(fresh_url, "base")
    assert asyncio.run(_tables(fresh_url, ignored=frozenset())) == {"alembic_version"}


def test_upgrade_after_downgrade_rebuilds_the_same_schema(fresh_url: str) -> None:
    upgrade(fresh_url)
    downgrade(fresh_url, "base")
    upgrade(fresh_url)
    assert asyncio.run(_drift(fresh_url)) == []
