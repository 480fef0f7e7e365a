"""Shared helpers of the channels tests: a Zalo channel, signed deliveries, the worker."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from hotline.channels.models import Message
from hotline.db import utcnow
from hotline.jobs.models import Job, JobStatus
from hotline.jobs.worker import run_due_jobs

PAYLOADS = Path(__file__).parent / "payloads" / "zalo"
APP_ID = "360846524940903967"
OA_ID = "388613280878808645"
USER = "246845883529197922"
SECRET = "oa-secret-9f8e7d6c5b4a"
ACCESS = "tok-1"
REFRESH = "ref-1"


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def variant(name: str, **changes: Any) -> bytes:
    """A documented payload with another msg_id / text / timestamp (re-serialised)."""
    document = json.loads(payload(name))
    for key, value in changes.items():
        if key in ("msg_id", "text"):
            document["message"][key] = value
        else:
            document[key] = value
    return json.dumps(document, ensure_ascii=False).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    timestamp = json.loads(body)["timestamp"]
    mac = hashlib.sha256(APP_ID.encode() + body + timestamp.encode() + secret.encode())
    return {"X-ZEvent-Signature": f"mac={mac.hexdigest()}", "Content-Type": "application/json"}


def zalo_settings(base: str, **extra: Any) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "secret_key": SECRET,
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "api_base": base,
        "oauth_base": base,
        "send_timeout": 1,
        **extra,
    }


async def make_channel(client: Any, world: Any, base: str) -> int:
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "zalo", "name": "Zalo OA Tổng đài 1022", "settings": zalo_settings(base)},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def deliver(client: Any, channel_id: int, body: bytes) -> Any:
    return await client.post(f"/hooks/{channel_id}", content=body, headers=signed(body))


async def conversation_of(client: Any, world: Any, channel_id: int) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel_id}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    r = await client.get(f"/api/v1/conversations/{items[0]['id']}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def run_jobs(app: Any, *, due: bool = True) -> int:
    """Run the worker once; `due` first makes waiting retries (and sends in doubt) due now,
    as if their backoff had passed."""
    state = app.state.hotline
    if due:
        async with state.unit_of_work() as session:
            past = utcnow() - timedelta(seconds=1)
            await session.execute(
                update(Job).where(Job.status == JobStatus.QUEUED).values(run_at=past)
            )
    return await run_due_jobs(state.sessionmaker)


async def age_sends(app: Any, minutes: int = 10) -> None:
    """Make every send attempt look `minutes` old (a send in doubt waits for its echo)."""
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(Message)
            .where(Message.attempted_at.is_not(None))
            .values(attempted_at=utcnow() - timedelta(minutes=minutes))
        )
