"""Shared by the channel tests: the providers' documented payloads, signed the way each provider
signs them for a channel's settings, and a fake provider API on loopback.

The fake stands in only for cloud APIs this machine cannot reach (Facebook, Viber, an SMS
gateway): a real HTTP server in a thread that records each request as it arrived and answers
what a test scripts (a JSON answer, a 5xx, or no answer at all until the client times out).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

PAYLOADS = Path(__file__).parent / "payloads"

MESSENGER = {
    "page_id": "106011532222370",
    "app_secret": "fb-app-secret-3f9a1c",
    "page_access_token": "EAAGm0PX4ZCpsBAPageTokenSecret",
    "verify_token": "hotline-verify-7d1e",
}
VIBER = {
    "auth_token": "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f",
    "sender_name": "Tổng đài 1022",
    "welcome_text": "Xin chào! Tổng đài 1022 xin nghe.",
}
SMS = {"secret": "sms-gateway-secret-91b2", "api_base": "http://gateway.invalid"}


def payload(provider: str, name: str) -> bytes:
    """A documented payload exactly as the provider sends it (byte for byte)."""
    return (PAYLOADS / provider / f"{name}.json").read_bytes()


def signature_headers(
    kind: str, settings: Mapping[str, Any], body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The headers the provider of `kind` sends with `body` for a channel with `settings`."""
    if kind == "messenger":
        digest = hmac.new(settings["app_secret"].encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    if kind == "viber":
        digest = hmac.new(settings["auth_token"].encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Viber-Content-Signature": digest}
    if kind == "sms":
        stamp = str(int(time.time() if now is None else now))
        message = stamp.encode() + b"." + body
        digest = hmac.new(settings["secret"].encode(), message, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-Hotline-Timestamp": stamp,
            "X-Hotline-Signature": digest,
        }
    raise ValueError(kind)


def signed_payload(
    kind: str, name: str, settings: Mapping[str, Any], *, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """A documented payload of `kind` and the headers that make it verify for `settings`:
    post both to `/hooks/{channel_id}`."""
    body = payload(kind, name)
    return body, signature_headers(kind, settings, body, now=now)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    peer: tuple[str, int] | None = None  # the client's address: one per connection

    def json(self) -> Any:
        return json.loads(self.body)


class FakeProvider:
    """A provider's API on 127.0.0.1: `reply()` scripts the next answers (in order; the default
    answer once the script is spent), `requests` holds what arrived."""

    def __init__(self, default: Any = None, *, keep_alive: bool = False) -> None:
        self.requests: list[Recorded] = []
        self.default: tuple[int, Any] = (200, default if default is not None else {})
        self._script: deque[tuple[int, Any] | str] = deque()
        self._release = threading.Event()
        self.on_request: Any = None  # called with each Recorded before answering
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps a connection open for the client's next request.
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                record = Recorded(
                    method="POST",
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                    peer=self.client_address[:2],
                )
                fake.requests.append(record)
                if fake.on_request is not None:
                    fake.on_request(record)
                answer = fake._script.popleft() if fake._script else fake.default
                if answer == "hang":
                    fake._release.wait(30)
                    return
                status, content = answer
                data = content if isinstance(content, bytes) else json.dumps(content).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def reply(self, status: int, content: Any) -> None:
        self._script.append((status, content))

    def hang(self) -> None:
        """The next request gets no answer (the client's timeout fires)."""
        self._script.append("hang")

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


def client() -> aiohttp.ClientSession:
    # Short, so a request the fake never answers fails fast as a timeout.
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5))
