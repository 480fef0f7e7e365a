"""The outbox benchmark's fake Zalo (bench/fake_provider.py) echoes every message it
delivers, as Zalo does: the benchmark's "every reply delivered exactly once" rests on the
outbox's rule that a send in doubt is confirmed by its echo (channels/outbox.py). A fake
that echoed only the answers it held back on purpose left a reply whose in-time answer the
worker read too late (a loaded box) in doubt with no echo ever coming, resent after the
grace: counted as delivered twice, though Zalo would have confirmed it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.channels.adapter import InboundKind
from hotline.channels.registry import adapter_for
from tests.channels.zalo_helpers import APP_ID, SECRET, USER, zalo_settings

pytestmark = pytest.mark.anyio

BENCH = Path(__file__).resolve().parents[2] / "bench"


class Hooks:
    """The product's webhook stand-in: records what the fake posts to it."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        host, port = self.server.server_address[:2]
        self.url = f"http://{host}:{port}/hooks/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    hooks = Hooks()
    try:
        yield hooks
    finally:
        hooks.close()


@pytest.fixture
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("fake_provider", None)
    import fake_provider

    return fake_provider


def _fake(module: Any, hook_url: str) -> Any:
    """The fake as the benchmark starts it, answering every send at once and with success."""
    args = argparse.Namespace(
        fail_5xx=0.0, timeouts=0.0, hang=0.0, hook_url=hook_url, app_id=APP_ID, secret=SECRET
    )
    args.seed = 1
    return module.make_app(module.Fake(args))


async def _send(client: httpx.AsyncClient, text: str) -> str:
    body = {"recipient": {"user_id": USER}, "message": {"text": text}}
    r = await client.post("/v3.0/oa/message/cs", json=body)
    assert r.status_code == 200 and r.json()["error"] == 0, r.text
    return str(r.json()["data"]["message_id"])


async def _echoes(hooks: Hooks, n: int) -> list[Any]:
    """The first `n` events posted to the webhook, as the product's Zalo adapter reads them
    (each signed with the channel's secret)."""
    adapter = adapter_for("zalo")
    settings = zalo_settings("http://unused")
    for _ in range(200):  # a liveness bound: the echo is posted in the background
        if len(hooks.received) >= n:
            break
        await asyncio.sleep(0.05)
    events = []
    for headers, body in hooks.received[:n]:
        assert adapter.verify(settings, headers, body)
        events.extend(adapter.read(settings, body))
    return events


async def test_a_reply_answered_in_time_is_echoed_as_zalo_does(hooks, fake_provider):
    app = _fake(fake_provider, hooks.url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        text = "Tổng đài 1022 đã chuyển phản ánh tới UBND phường"
        message_id = await _send(client, text)
        [echo] = await _echoes(hooks, 1)
    assert echo.kind == InboundKind.ECHO
    assert (echo.event_id, echo.user_id, echo.text) == (message_id, USER, text)


async def test_message_ids_stay_unique_across_a_reset(hooks, fake_provider):
    # The benchmark resets the fake's counts before the replies: an id given again would
    # make the product drop a later reply's echo as an earlier one's.
    app = _fake(fake_provider, hooks.url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        first = await _send(client, "trả lời 1")
        assert (await client.post("/reset")).status_code == 200
        second = await _send(client, "trả lời 2")
        stats = (await client.get("/stats")).json()
        await _echoes(hooks, 2)
    assert first != second
    assert stats["deliveries"] == {"trả lời 2": 1}
    # The two echoes are posted concurrently: either may arrive first.
    ids = {
        json.loads(body)["message"]["text"]: json.loads(body)["message"]["msg_id"]
        for _headers, body in hooks.received[:2]
    }
    assert ids == {"trả lời 1": first, "trả lời 2": second}
