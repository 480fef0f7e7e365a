"""A resolved case's answer reaches every citizen whose conversation is tied to it: the one
who opened it and those whose conversations were linked to it (`POST
/conversations/{id}/link`), each once, on the channel they wrote from."""

from __future__ import annotations

import pytest

from hotline.db import utcnow
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import USER, deliver, make_channel, run_jobs, variant

pytestmark = pytest.mark.anyio

ANSWER = "Đội thoát nước đã xử lý xong"


async def _conversation_of_user(client, world, user: str) -> int:
    items = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()
    return int(next(c["id"] for c in items["items"] if c["external_user_id"] == user))


async def _write(client, channel: int, user: str, msg_id: str, text: str) -> None:
    now_ms = str(int(utcnow().timestamp() * 1000))
    body = variant(
        "user_send_text", msg_id=msg_id, sender={"id": user}, text=text, timestamp=now_ms
    )
    assert (await deliver(client, channel, body)).status_code == 200


async def test_a_case_answer_reaches_the_citizens_whose_conversations_were_linked_to_it(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    await _write(client, channel, USER, "a1", "Cống ngõ 12 Kim Mã bị tắc")
    first = await _conversation_of_user(client, world, USER)
    r = await client.post(
        f"/api/v1/conversations/{first}/case",
        json={"category": "ho_tro_kho_khan", "urgent": False},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    # Two neighbours write about the same blocked drain, later; an operator joins their
    # conversations to the case instead of opening new ones.
    for user, msg_id in (("777", "b1"), ("888", "c1")):
        await _write(client, channel, user, msg_id, "Cống ngõ 12 vẫn tắc, nước tràn ra đường")
        linked = await _conversation_of_user(client, world, user)
        r = await client.post(
            f"/api/v1/conversations/{linked}/link",
            json={"case": code},
            headers=world.auth("operator"),
        )
        assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{code}/resolve", json={"answer": ANSWER}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    for _ in range(3):
        await run_jobs(app)
    told = sorted(
        (s.json()["recipient"]["user_id"], s.json()["message"]["text"]) for s in zalo.fake.sends()
    )
    heard = f"Tổng đài 1022 trả lời yêu cầu {code}: {ANSWER}"
    assert told == sorted([(USER, heard), ("777", heard), ("888", heard)])
    # The job run again (at least once): nobody is told twice.
    await run_due_jobs(app.state.hotline.sessionmaker)
    assert len(zalo.fake.sends()) == 3


async def test_a_citizen_with_two_conversations_on_a_case_is_told_once_on_the_newest(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    await _write(client, channel, USER, "a1", "Cống ngõ 12 Kim Mã bị tắc")
    first = await _conversation_of_user(client, world, USER)
    r = await client.post(
        f"/api/v1/conversations/{first}/case",
        json={"category": "ho_tro_kho_khan", "urgent": False},
        headers=world.auth("operator"),
    )
    code = r.json()["code"]
    r = await client.post(f"/api/v1/conversations/{first}/close", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    # The same citizen writes again: a new conversation, joined to the same case.
    await _write(client, channel, USER, "a2", "Cống vẫn chưa được thông")
    items = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()
    second = max(c["id"] for c in items["items"] if c["external_user_id"] == USER)
    assert second != first
    r = await client.post(
        f"/api/v1/conversations/{second}/link", json={"case": code}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{code}/resolve", json={"answer": ANSWER}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    for _ in range(3):
        await run_jobs(app)
    assert len(zalo.fake.sends()) == 1
    r = await client.get(f"/api/v1/conversations/{second}", headers=world.auth("operator"))
    assert [m["source"] for m in r.json()["messages"] if m["direction"] == "out"] == [
        "notification"
    ]
