"""Shared fixtures: every database test runs on SQLite and, when
HOTLINE_TEST_POSTGRES_URL is set (CI always sets it), on PostgreSQL too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hotline.app import create_app
from hotline.migrate import upgrade
from hotline.settings import Settings, normalise_database_url

# Property tests check behaviour, never speed: on a busy CI box hypothesis's own timing
# checks (deadline, "data generation too slow") failed tests that were right.
hypothesis_settings.register_profile(
    "hotline", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("hotline")

PG_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
KEEP_TABLES = {"province", "ward", "alembic_version"}


def missing_tool(reason: str) -> None:
    """Skip locally when a Debian tool is missing; in CI (`make test` installs it) fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must have it: `make test` installs it as root")
    pytest.skip(reason)


FIGURES = pytest.StashKey[list[str]]()


def report(config: pytest.Config, line: str) -> None:
    """A figure for the end of the run (shown even under -q: see pytest_terminal_summary)."""
    config.stash.setdefault(FIGURES, []).append(line)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.write_sep("-", "figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """Argon2 at production cost takes ~0.5 s a hash; tests create many users."""
    from argon2 import PasswordHasher, profiles

    from hotline.auth.service import use_password_hasher

    use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture(scope="session", autouse=True)
def routes_built_once_per_worker() -> Iterator[None]:
    """Each route's request handler built once per test process, as a served app builds it
    once per process, rather than again for each test's app.

    FastAPI builds an included route's handler (its dependencies' analysis, its validation
    models) when an app first routes a request past it, and keeps it on that app; every test
    makes a new app, and rebuilding ~100 handlers took about a third of a test's time. What
    is shared is the same for every app create_app makes: the handler depends on the route,
    the router and how it is included, and on the app only for `dependency_overrides`,
    which nothing here uses (an app given overrides before its first request builds its
    own handlers). The app's state, settings, middleware and
    database stay each test's own. Left off if FastAPI's internals no longer look the same."""
    from fastapi import routing

    context = getattr(routing, "_EffectiveRouteContext", None)
    raw = vars(context).get("from_api_route") if context is not None else None
    if not isinstance(raw, classmethod):
        yield
        return
    original = raw.__get__(None, context)
    built: dict[tuple[Any, ...], Any] = {}
    kept: list[tuple[Any, Any]] = []

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        provider = include_context.dependency_overrides_provider
        if getattr(provider, "dependency_overrides", None):
            return original(original_route=original_route, include_context=include_context)
        key = (
            id(original_route),  # routes compare by value and do not hash
            id(include_context.included_router),
            include_context.prefix,
            tuple(d.dependency for d in include_context.dependencies),
            tuple(include_context.tags),
            include_context.include_in_schema,
            include_context.deprecated,
            include_context.max_body_size,
        )
        if key not in built:
            built[key] = original(original_route=original_route, include_context=include_context)
            # Kept alive with the handler, so their ids in the key are never reused.
            kept.append((original_route, include_context.included_router))
        return built[key]

    context.from_api_route = classmethod(from_api_route)
    try:
        yield
    finally:
        context.from_api_route = raw  # type: ignore[union-attr]


def _bootstrap(url: str) -> None:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.setup import bootstrap
    from hotline.site import Site

    async def run() -> None:
        engine = create_engine(url)
        site = Site.from_settings(Settings(database_url=url))
        async with make_sessionmaker(engine, site)() as session, session.begin():
            await bootstrap(session, province_code="01")
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    _bootstrap(url)
    return path


async def _pg_admin(sql: str) -> None:
    assert PG_URL
    engine = create_async_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip(
            "PostgreSQL not configured: set HOTLINE_TEST_POSTGRES_URL to run this on PostgreSQL"
        )
    name = f"hotline_test_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = normalise_database_url(PG_URL).rsplit("/", 1)[0]
    url = f"{base}/{name}"
    upgrade(url)
    _bootstrap(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# The sequences numbering the tables the tests write.
_SEQUENCES = """
SELECT seq.relname
FROM pg_class seq
JOIN pg_depend d ON d.objid = seq.oid AND d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class tbl ON tbl.oid = d.refobjid
WHERE seq.relkind = 'S' AND tbl.relname = ANY(:tables)
"""


@dataclass
class _Baseline:
    """What every PostgreSQL test starts from: the default categories, units and shifts
    (their rows as written), and where each sequence stood."""

    rows: dict[str, list[dict[str, Any]]]
    digests: dict[str, str]
    sequences: dict[str, tuple[int, bool]]


_BASELINES: dict[str, _Baseline] = {}


async def _seed_defaults(engine: Any, url: str) -> None:
    from hotline.db import make_sessionmaker
    from hotline.directory.service import ensure_default_categories, ensure_default_units
    from hotline.site import Site
    from hotline.staffing.service import ensure_default_shifts

    async with (
        make_sessionmaker(engine, Site.from_settings(Settings(database_url=url)))() as s,
        s.begin(),
    ):
        await ensure_default_categories(s)
        await ensure_default_units(s, province_code="01")
        await ensure_default_shifts(s)


async def _pg_reset(url: str) -> None:
    """Bring the database back to the baseline: places, default categories, units, shifts.

    Only what a test changed is undone: tables holding rows are emptied with DELETE, the
    defaults put back from the rows kept in memory only when one of their tables differs,
    and sequences set back where they stood. One TRUNCATE of every table (and the services
    seeding the defaults again) did the same in ~1 s (2 s on a busy box) before every
    PostgreSQL test: TRUNCATE gives each of the ~60 tables a new file on disk."""
    from sqlalchemy import select

    from hotline.db import create_engine
    from hotline.models import metadata

    engine = create_engine(url)
    tables = [t for t in metadata.sorted_tables if t.name not in KEEP_TABLES]
    baseline = _BASELINES.get(url)
    if baseline is None:
        # First use of this database: start from empty tables and the services' defaults.
        names = ", ".join(f'"{t.name}"' for t in tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await _seed_defaults(engine, url)
        async with engine.connect() as conn:
            rows = {}
            for table in tables:
                found = (await conn.execute(select(table))).mappings().all()
                if found:
                    rows[table.name] = [dict(row) for row in found]
            query = _contents_query(tables, set(rows))
            digests = {name: digest for name, digest in await conn.execute(text(query))}
            names_found = await conn.execute(text(_SEQUENCES), {"tables": [t.name for t in tables]})
            sequences = await _sequence_states(conn, [row[0] for row in names_found])
        _BASELINES[url] = _Baseline(rows=rows, digests=digests, sequences=sequences)
        await engine.dispose()
        return

    async with engine.begin() as conn:
        query = _contents_query(tables, set(baseline.rows))
        found = {name: digest for name, digest in await conn.execute(text(query))}
        changed = {name for name in found if name not in baseline.rows} | {
            name for name in baseline.rows if found.get(name) != baseline.digests[name]
        }
        seeded = [t for t in tables if t.name in baseline.rows]
        if changed & baseline.rows.keys():
            changed |= baseline.rows.keys()  # they refer to each other: put back together
        for table in reversed(tables):
            if table.name in changed:
                await conn.execute(table.delete())
        for table in seeded:
            if table.name in changed:
                await conn.execute(table.insert(), baseline.rows[table.name])
        now = await _sequence_states(conn, list(baseline.sequences))
        moved = [(seq, state) for seq, state in baseline.sequences.items() if now[seq] != state]
        if moved:
            resets = ", ".join(
                f"setval('\"{seq}\"', {value}, {str(called).lower()})"
                for seq, (value, called) in moved
            )
            await conn.execute(text(f"SELECT {resets}"))
    await engine.dispose()


async def _sequence_states(conn: Any, sequences: list[str]) -> dict[str, tuple[int, bool]]:
    if not sequences:
        return {}
    query = " UNION ALL ".join(
        f"SELECT '{seq}', last_value, is_called FROM \"{seq}\"" for seq in sequences
    )
    return {name: (value, called) for name, value, called in await conn.execute(text(query))}


def _contents_query(tables: list[Any], seeded: set[str]) -> str:
    """One row per table holding rows: its name, and for the defaults' tables a digest of
    their rows' text (any change to them shows in it)."""
    checks = []
    for table in tables:
        name = table.name
        if name in seeded:
            checks.append(
                f"SELECT '{name}', md5(string_agg(t::text, '|' ORDER BY t::text)) "
                f'FROM "{name}" t HAVING count(*) > 0'
            )
        else:
            checks.append(f"SELECT '{name}', NULL WHERE EXISTS (SELECT 1 FROM \"{name}\")")
    return " UNION ALL ".join(checks)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with places, default categories and units, fresh for each test."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hotline.sqlite3"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    asyncio.run(_pg_reset(url))
    return str(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", site_province_code="01")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    # What the app's lifespan starts (the transport below does not run it): the event
    # log's feed, so that subscribers get events, and its wake-ups.
    await application.state.hotline.start_events()
    yield application
    await application.state.hotline.close()


@contextlib.asynccontextmanager
async def live_events(app: Any) -> AsyncIterator[asyncio.Queue[Any]]:
    """The app's live events committed from now on (those before are delivered first)."""
    state = app.state.hotline
    await state.feed.sync()
    async with state.bus.subscribe() as queue:
        yield queue


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@dataclass
class World:
    """Test users per role and per unit: owner, colleague, outsider."""

    tokens: dict[str, str]
    units: dict[str, int]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


PASSWORD = "mat-khau-an-toan-1022"


@pytest.fixture
async def world(app: Any, client: httpx.AsyncClient) -> World:
    from hotline.auth.service import create_user
    from hotline.directory.service import create_unit, get_unit_by_code

    state = app.state.hotline
    async with state.unit_of_work() as session:
        ward_a = await create_unit(
            session,
            code="UB-00004",
            name="UBND Phường Ba Đình",
            unit_type="ward_committee",
            ward_codes=["00004"],
            categories=["ho_tro_kho_khan", "phan_anh_vi_pham"],
        )
        ward_b = await create_unit(
            session,
            code="UB-00008",
            name="UBND Phường Ngọc Hà",
            unit_type="ward_committee",
            ward_codes=["00008"],
            categories=["ho_tro_kho_khan", "phan_anh_vi_pham"],
        )
        doctors = await get_unit_by_code(session, "01-BACSI")
        units = {"ward_a": ward_a.id, "ward_b": ward_b.id, "doctors": doctors.id}
        people = {
            "admin": ("admin", None),
            "supervisor": ("supervisor", None),
            "operator": ("operator", None),
            "officer": ("unit_officer", ward_a.id),
            "colleague": ("unit_officer", ward_a.id),
            "outsider": ("unit_officer", ward_b.id),
            "doctor": ("doctor", doctors.id),
        }
        for username, (role, unit_id) in people.items():
            await create_user(
                session, username=username, password=PASSWORD, role=role, unit_id=unit_id
            )
    tokens = {}
    for username in people:
        r = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        tokens[username] = r.json()["access_token"]
    return World(tokens=tokens, units=units)


SITE_TZ = ZoneInfo(Settings().timezone)


def site_today() -> date:
    """Today at the site (Asia/Ho_Chi_Minh), the calendar reports use: from 17:00 UTC on,
    it is already tomorrow there."""
    return datetime.now(SITE_TZ).date()


def site_date(instant: str) -> str:
    """The site's calendar date of an API timestamp, as `YYYY-MM-DD`."""
    return datetime.fromisoformat(instant).astimezone(SITE_TZ).date().isoformat()


def new_case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "phone",
        "description": "Gia đình tôi 5 người hết gạo, xin hỗ trợ lương thực",
        "category": "ho_tro_kho_khan",
        "contact": {"name": "Nguyễn Thị Lan", "phone": "0912345678"},
        "ward_code": "00004",
        "address": "Số 12 ngõ 45 Kim Mã",
    }
    body.update(overrides)
    return body
