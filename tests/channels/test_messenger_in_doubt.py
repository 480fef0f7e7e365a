"""A Messenger reply whose answer never came (Facebook took the request, then the worker's
timeout ran out) is a send in doubt: the Send API takes no idempotency key, so it is not
sent again at once; the Page's echo of it marks it sent."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.channels.helpers import MESSENGER, FakeProvider, payload, signature_headers
from tests.channels.zalo_helpers import conversation_of, run_jobs

pytestmark = pytest.mark.anyio

PSID = "6944582312345678"
TEXT = "Tổng đài 1022 đã chuyển phản ánh tới UBND phường Láng Thượng"


async def _channel(client: Any, world: Any, fake: FakeProvider) -> int:
    settings = {**MESSENGER, "api_base": fake.url + "/v25.0", "send_timeout": 1}
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "messenger", "name": "Messenger 1022", "settings": settings},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _post(client: Any, channel: int, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    headers = signature_headers("messenger", MESSENGER, body)
    r = await client.post(f"/hooks/{channel}", content=body, headers=headers)
    assert r.status_code == 200, r.text


def _fresh_message() -> dict[str, Any]:
    document = json.loads(payload("messenger", "text_vietnamese"))
    now = int(time.time() * 1000)
    document["entry"][0]["time"] = now
    document["entry"][0]["messaging"][0]["timestamp"] = now
    return dict(document)


def _echo(mid: str, text: str) -> dict[str, Any]:
    """What Facebook posts for a message the Page sent (`message_echoes`)."""
    now = int(time.time() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": MESSENGER["page_id"],
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": MESSENGER["page_id"]},
                        "recipient": {"id": PSID},
                        "timestamp": now,
                        "message": {
                            "mid": mid,
                            "is_echo": True,
                            "app_id": 1517776481860111,
                            "text": text,
                        },
                    }
                ],
            }
        ],
    }


async def _reply_of(client: Any, world: Any, channel: int) -> dict[str, Any]:
    conversation = await conversation_of(client, world, channel)
    [reply] = [m for m in conversation["messages"] if m["direction"] == "out"]
    return dict(reply)


async def test_a_messenger_send_that_timed_out_waits_for_its_echo_and_is_not_sent_twice(
    app, client, world, provider
):
    channel = await _channel(client, world, provider)
    await _post(client, channel, _fresh_message())
    conversation = await conversation_of(client, world, channel)
    provider.requests.clear()
    provider.hang()  # Facebook takes the request; its answer never comes in time
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": TEXT},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    await run_jobs(app)
    assert len(provider.requests) == 1
    # The worker runs again (its retry made due): the outcome is unknown, so no second send.
    await run_jobs(app)
    assert len(provider.requests) == 1
    reply = await _reply_of(client, world, channel)
    assert reply["status"] == "sending"
    assert "Messenger" in (reply["error"] or "")
    # Facebook's echo of it arrives: it was delivered.
    await _post(client, channel, _echo("m_echo_of_the_reply", TEXT))
    reply = await _reply_of(client, world, channel)
    assert (reply["status"], reply["provider_id"]) == ("sent", "m_echo_of_the_reply")
    await run_jobs(app)
    assert len(provider.requests) == 1
