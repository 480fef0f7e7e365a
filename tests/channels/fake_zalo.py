"""A fake Zalo OpenAPI on loopback: a real HTTP server (the cloud API is unreachable here)
that records every request and answers as Zalo documents, or as told: a 5xx, a hang past the
client's timeout, an `error` code with HTTP 200, a token refresh."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeZalo:
    # What the next sends answer, in order; then "ok". Each is "ok", "5xx" (recorded, then
    # answered 503: delivered, as real providers sometimes do), "500" (recorded, then
    # answered HTTP 500), "hang", "hang_then_ok"
    # (recorded, answered too late), "hold" (recorded, answered "ok" once `release` is
    # set), an int: Zalo's `error` code, or ("hold", step): recorded, answered as `step`
    # once `release` is set.
    plan: deque[Any] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    refreshes: list[dict[str, list[str]]] = field(default_factory=list)
    access_token: str = "tok-1"
    refresh_token: str = "ref-1"
    hang_seconds: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    # When set to an Event: a token refresh sets `refresh_arrived`, then waits for it.
    refresh_hold: threading.Event | None = None
    refresh_arrived: threading.Event = field(default_factory=threading.Event)

    def sends(self) -> list[Received]:
        return [r for r in self.received if r.path == "/v3.0/oa/message/cs"]


def _handler(fake: FakeZalo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/v4/oa/access_token":
                form = parse_qs(body.decode())
                if fake.refresh_hold is not None:
                    fake.refresh_arrived.set()
                    fake.refresh_hold.wait(timeout=30)
                with fake.lock:
                    fake.refreshes.append(form)
                    if form.get("refresh_token") != [fake.refresh_token]:
                        self._answer(200, {"error": -14014, "error_name": "Invalid refresh token"})
                        return
                    n = len(fake.refreshes) + 1
                    fake.access_token, fake.refresh_token = f"tok-{n}", f"ref-{n}"
                    self._answer(
                        200,
                        {
                            "access_token": fake.access_token,
                            "refresh_token": fake.refresh_token,
                            "expires_in": "90000",
                        },
                    )
                return
            with fake.lock:
                step = fake.plan.popleft() if fake.plan else "ok"
            if step == "hang":  # stuck before handing the message on: nothing delivered
                time.sleep(fake.hang_seconds)
                return
            with fake.lock:
                fake.received.append(Received(self.path, dict(self.headers), body))
                n = len(fake.received)
            if step == "hang_then_ok":  # delivered, but the answer comes too late
                time.sleep(fake.hang_seconds)
            if step == "hold" or isinstance(step, tuple):  # answered when the test says so
                fake.release.wait(timeout=60)
                step = step[1] if isinstance(step, tuple) else step
            if step == "5xx":
                self._answer(503, {"message": "Service Unavailable"})
            elif step == "500":
                self._answer(500, {"message": "Internal Server Error"})
            elif isinstance(step, int):
                self._answer(200, {"error": step, "message": "error"})
            elif self.headers.get("access_token") != fake.access_token:
                self._answer(200, {"error": -216, "message": "Access token is invalid"})
            else:
                self._answer(
                    200,
                    {
                        "data": {"message_id": f"zmsg{n}", "user_id": "246845883529197922"},
                        "error": 0,
                        "message": "Success",
                    },
                )

    return Handler


class FakeZaloServer:
    def __init__(self) -> None:
        self.fake = FakeZalo()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeZalo:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.fake.release.set()
        if self.fake.refresh_hold is not None:
            self.fake.refresh_hold.set()
        self.server.shutdown()
        self.server.server_close()
