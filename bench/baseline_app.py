"""Baseline for the intake benchmark: the cheapest honest version of `POST /api/v1/cases`.

Bare FastAPI + asyncpg, one pydantic model, one INSERT. The product is measured against
this, so it deliberately has no auth, ORM, validation beyond pydantic, or events.

Run: uvicorn bench.baseline_app:app --workers 2 --port 8901 --no-access-log \
       --loop uvloop --http httptools
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from pydantic import BaseModel

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"

DDL = """
CREATE TABLE IF NOT EXISTS bench_case (
    id bigserial PRIMARY KEY,
    channel text NOT NULL,
    description text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""

INSERT = "INSERT INTO bench_case (channel, description) VALUES ($1, $2) RETURNING id"


class Contact(BaseModel):
    name: str | None = None
    phone: str | None = None


class CaseIn(BaseModel):
    """Same shape as the product's intake body, so JSON parsing cost is comparable."""

    channel: str
    description: str
    category: str | None = None
    contact: Contact | None = None
    ward_code: str | None = None
    address: str | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ.get("BENCH_PG_DSN", DEFAULT_DSN)
    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=16)
    # Several workers start at once; the advisory lock keeps concurrent
    # CREATE TABLE IF NOT EXISTS from racing on the catalog.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(1022)")
        await conn.execute(DDL)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/api/v1/cases", status_code=201)
async def create_case(body: CaseIn, request: Request) -> dict[str, int]:
    pool: asyncpg.Pool = request.app.state.pool
    case_id = await pool.fetchval(INSERT, body.channel, body.description)
    return {"id": case_id}
