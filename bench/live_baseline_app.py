"""Baseline for the live-dashboard benchmark: a bare asyncio fan-out of server-sent events.

One process, one queue per connected client, `POST /publish` puts a "case.created" event
in every queue and answers 201 with its code. No sign-in, database, event log or
permission filter: the cheapest honest way to push one message to many open streams, with
the same SSE library (sse-starlette) and server (uvicorn, uvloop, httptools) as the product.

Run: uvicorn live_baseline_app:app --port 8905 --no-access-log --loop uvloop --http httptools
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

subscribers: set[asyncio.Queue[dict[str, str]]] = set()
ids = itertools.count(1)


async def events(_request: Request) -> EventSourceResponse:
    async def stream() -> AsyncIterator[dict[str, str]]:
        queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        subscribers.add(queue)
        try:
            yield {"event": "ready", "data": "{}"}
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)

    return EventSourceResponse(stream(), ping=15)


async def publish(_request: Request) -> JSONResponse:
    n = next(ids)
    code = f"B{n:07d}"
    message = {
        "event": "case.created",
        "id": str(n),
        "data": json.dumps({"kind": "case.created", "case_code": code}),
    }
    for queue in subscribers:
        queue.put_nowait(message)
    return JSONResponse({"code": code}, status_code=201)


app = Starlette(routes=[Route("/events", events), Route("/publish", publish, methods=["POST"])])
