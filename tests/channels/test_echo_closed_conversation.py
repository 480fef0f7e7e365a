"""An operator answers and closes the conversation at once (the usual end of an exchange).
Zalo's echo of that reply then finds no open conversation: it must still confirm the reply
(a send in doubt), not open a new conversation holding a copy of it, and the reply must not
be sent a second time after the grace."""

from __future__ import annotations

import pytest

from hotline.db import utcnow
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import (
    USER,
    age_sends,
    conversation_of,
    deliver,
    make_channel,
    run_jobs,
    variant,
)

pytestmark = pytest.mark.anyio

REPLY = "Tổng đài đã xử lý xong, xin cảm ơn anh/chị"


async def test_the_echo_of_a_reply_in_a_closed_conversation_confirms_it(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)  # send timeout 1 s
    now_ms = str(int(utcnow().timestamp() * 1000))
    assert (
        await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    ).status_code == 200
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    conversation = (await conversation_of(client, world, channel))["id"]
    r = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": REPLY},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    r = await client.post(
        f"/api/v1/conversations/{conversation}/close", headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    zalo.fake.plan.append("hang_then_ok")  # delivered; the answer comes too late
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1
    echo = variant("oa_send_text", msg_id="zmsg-echo-1", text=REPLY)
    assert (await deliver(client, channel, echo)).status_code == 200
    await age_sends(app)
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1  # not sent again
    items = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()
    assert [c["id"] for c in items["items"] if c["external_user_id"] == USER] == [conversation]
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("operator"))
    [out] = [m for m in r.json()["messages"] if m["direction"] == "out"]
    assert (out["status"], out["provider_id"]) == ("sent", "zmsg-echo-1")
