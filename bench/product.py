"""Wiring of the real product for the intake benchmark: database set-up, server command, token.

    python bench/product.py setup     # fresh database, schema, places, operator account
    python bench/product.py token     # log in through the running server ($BENCH_URL)
    python bench/product.py drop      # drop the benchmark database

Every run gets a fresh database so the case table, its indexes and the counters start
empty, exactly like the baseline's TRUNCATE.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import REPO_ROOT, pg_dsn
from datagen import db_url, migrate_and_bootstrap, pg_create_database, pg_drop_database

DB_NAME = "hotline_bench_intake"
USERNAME = "bench_operator"
PASSWORD = "bench-operator-password"
PORT = 8902
URL = f"http://127.0.0.1:{PORT}/api/v1/cases"


def product_dsn() -> str:
    return db_url(pg_dsn(), DB_NAME)


def product_cmd(workers: int = 2) -> str:
    """Shell command starting the product exactly as deployed: `hotline serve` with two
    workers (uvicorn on uvloop and httptools, the lock's; metrics shared between the workers
    through PROMETHEUS_MULTIPROC_DIR; proxy headers believed only from the trusted proxies,
    none here), the production environment (JSON logs, one access line per request)."""
    env = (
        f"HOTLINE_DATABASE_URL={product_dsn()} HOTLINE_ENVIRONMENT=production"
        f" HOTLINE_VAR_DIR={REPO_ROOT / 'var' / 'bench'}"
        # src first: the worktree's code, not whatever the venv has installed.
        f" PYTHONPATH={REPO_ROOT / 'src'}"
    )
    return f"{env} hotline serve --host 127.0.0.1 --port {PORT} --workers {workers}"


def _self_cmd(action: str) -> str:
    return f"PYTHONPATH={REPO_ROOT / 'src'} {sys.executable} {Path(__file__).resolve()} {action}"


def setup_cmd() -> str:
    return _self_cmd("setup")


def token_cmd() -> str:
    return _self_cmd("token")


def drop_cmd() -> str:
    return _self_cmd("drop")


def setup() -> None:
    asyncio.run(pg_create_database(pg_dsn(), DB_NAME))
    migrate_and_bootstrap(product_dsn(), province_code="01")
    asyncio.run(_create_operator())


async def _create_operator() -> None:
    from hotline.auth.service import create_user
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    engine = create_engine(normalise_database_url(product_dsn()))
    try:
        maker = make_sessionmaker(engine, Site.from_settings(load_settings()))
        async with maker() as session, session.begin():
            await create_user(session, username=USERNAME, password=PASSWORD, role="operator")
    finally:
        await engine.dispose()


def token() -> str:
    import httpx

    base = os.environ.get("BENCH_URL", URL)
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path="/api/v1/auth/token", query=""))
    resp = httpx.post(url, data={"username": USERNAME, "password": PASSWORD}, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def main() -> None:
    action = sys.argv[1] if len(sys.argv) > 1 else "setup"
    if action == "setup":
        setup()
    elif action == "token":
        print(token())
    elif action == "drop":
        asyncio.run(pg_drop_database(pg_dsn(), DB_NAME))
    else:
        raise SystemExit(f"unknown action {action!r}: setup, token or drop")


if __name__ == "__main__":
    main()
