"""A fast fake of Zalo's send API for the outbox benchmark, in its own process.

    python bench/fake_provider.py --port 8914 --fail-5xx 0.05 --timeouts 0.01 \
        --hang 1.5 --hook-url http://127.0.0.1:8903/hooks/1 --app-id ... --secret ...

A bare ASGI app under uvicorn (httptools, uvloop), one process. `POST
/v3.0/oa/message/cs` answers as Zalo documents (`error: 0`, a `message_id`), except:

- a fraction `--fail-5xx` of requests: HTTP 503, nothing delivered (the worker retries);
- a fraction `--timeouts`: delivered, but answered only after `--hang` seconds, past the
  worker's send timeout (a send in doubt).

As Zalo does, every message delivered is echoed to the product's webhook (`oa_send_text`,
signed), the late ones' too: the echo is what marks a send in doubt `sent` without a resend.
That includes an answer the fake gave in time but the worker read too late (a loaded box:
the send timeout ran out first). Echoing only the late answers left those in doubt with
no echo ever coming, resent after the outbox's grace: delivered twice by the fake's
count, though the real provider would have confirmed them.

Every delivery is counted per message text (the benchmark makes each reply's text unique):
`GET /stats` returns the counts, so doubles and losses show.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import time
from typing import Any

OA_ID = "388613280878808645"
ECHOES_IN_FLIGHT = 16  # echo webhooks posted at once (the others wait their turn)


class Fake:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        # Message ids stay unique across resets, as Zalo's are: an echo carrying an id the
        # product already holds for another reply is dropped as that reply's own echo.
        self.n = 0
        self.reset()
        self._http: Any = None
        self._echoes: set[asyncio.Task[None]] = set()
        self._echoing: asyncio.Semaphore | None = None

    def reset(self) -> None:
        self.deliveries: dict[str, int] = {}
        self.requests = 0
        self.answered_5xx = 0
        self.answered_late = 0
        self.echoes_ok = 0
        self.echoes_failed = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "delivered": sum(self.deliveries.values()),
            "answered_5xx": self.answered_5xx,
            "answered_late": self.answered_late,
            "echoes_ok": self.echoes_ok,
            "echoes_failed": self.echoes_failed,
            "first_delivery_at": self.first_at,
            "last_delivery_at": self.last_at,
            "deliveries": self.deliveries,
        }

    async def echo(self, user: str, text: str, msg_id: str) -> None:
        """Zalo's `oa_send_text` event for a message the OA sent, signed like every event."""
        if self._http is None:
            import aiohttp

            # aiohttp on kept-alive connections, one per echo in flight: httpx cost about
            # 1 ms of CPU an echo here, as much as the worker's whole send, on the cores
            # the product is measured on.
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=ECHOES_IN_FLIGHT, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=30),
            )
        ts = str(int(time.time() * 1000))
        body = json.dumps(
            {
                "app_id": self.args.app_id,
                "sender": {"id": OA_ID},
                "user_id_by_app": "552177279717587730",
                "recipient": {"id": user},
                "event_name": "oa_send_text",
                "message": {"text": text, "msg_id": msg_id},
                "timestamp": ts,
            },
            ensure_ascii=False,
        ).encode()
        mac = hashlib.sha256(
            self.args.app_id.encode() + body + ts.encode() + self.args.secret.encode()
        ).hexdigest()
        headers = {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}
        if self._echoing is None:
            self._echoing = asyncio.Semaphore(ECHOES_IN_FLIGHT)
        async with self._echoing:
            await self._post_echo(body, headers)

    async def _post_echo(self, body: bytes, headers: dict[str, str]) -> None:
        for _ in range(5):  # Zalo retries an unacknowledged event
            try:
                async with self._http.post(self.args.hook_url, data=body, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        self.echoes_ok += 1
                        return
            except Exception:  # retried below
                pass
            await asyncio.sleep(0.5)
        self.echoes_failed += 1

    async def send(self, body: bytes) -> tuple[int, dict[str, Any]]:
        self.requests += 1
        roll = self.rng.random()
        if roll < self.args.fail_5xx:
            self.answered_5xx += 1
            return 503, {"message": "Service Unavailable"}
        document = json.loads(body)
        text = str(document["message"]["text"])
        user = str(document["recipient"]["user_id"])
        self.deliveries[text] = self.deliveries.get(text, 0) + 1
        now = time.time()
        self.first_at = self.first_at or now
        self.last_at = now
        self.n += 1
        msg_id = f"zmsg{self.n}"
        task = asyncio.create_task(self.echo(user, text, msg_id))
        self._echoes.add(task)
        task.add_done_callback(self._echoes.discard)
        if roll < self.args.fail_5xx + self.args.timeouts:
            self.answered_late += 1
            await asyncio.sleep(self.args.hang)
        return 200, {
            "data": {"message_id": msg_id, "user_id": user},
            "error": 0,
            "message": "Success",
        }


def make_app(fake: Fake) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            event = await receive()
            chunks.append(event.get("body", b""))
            if not event.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == "/v3.0/oa/message/cs":
            status, doc = await fake.send(b"".join(chunks))
        elif path == "/stats":
            status, doc = 200, fake.stats()
        elif method == "POST" and path == "/reset":
            fake.reset()
            status, doc = 200, {"ok": True}
        else:
            status, doc = 404, {"error": -1, "message": "not found"}
        data = json.dumps(doc, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--port", type=int, default=8914)
    p.add_argument("--fail-5xx", type=float, default=0.05)
    p.add_argument("--timeouts", type=float, default=0.01)
    p.add_argument("--hang", type=float, default=1.5, help="seconds before a late answer")
    p.add_argument("--hook-url", required=True, help="the product's webhook for echoes")
    p.add_argument("--app-id", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--seed", type=int, default=1022)
    args = p.parse_args()
    import uvicorn

    uvicorn.run(
        make_app(Fake(args)),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="off",
    )


if __name__ == "__main__":
    main()
