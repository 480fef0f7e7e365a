"""Replies out through the durable outbox, against a fake Zalo API on loopback: retried
after 5xx and timeouts and delivered once, failed and visible on a permanent error, not
doubled when the worker stops mid-send, tokens rotated, case answers reaching reporters."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import select, update

from hotline.channels.models import Channel
from hotline.jobs.models import Job
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import (
    USER,
    age_sends,
    conversation_of,
    deliver,
    make_channel,
    payload,
    run_jobs,
    variant,
)

pytestmark = pytest.mark.anyio

REPLY = "Tổng đài đã chuyển phản ánh tới UBND phường Ngọc Hà"


async def _fresh_conversation(client, world, channel: int) -> dict:
    # The documented event is from December 2024: a fresh one keeps the 7-day window open.
    from hotline.db import utcnow

    now_ms = str(int(utcnow().timestamp() * 1000))
    assert (
        await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    ).status_code == 200
    return await conversation_of(client, world, channel)


async def _reply(client, world, conversation_id: int, text: str = REPLY) -> dict:
    r = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    return dict(r.json())


async def _outgoing(client, world, channel: int) -> list[dict]:
    conversation = await conversation_of(client, world, channel)
    return [m for m in conversation["messages"] if m["direction"] == "out"]


async def test_reply_is_sent_once_with_the_documented_request(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    await _reply(client, world, conversation["id"])
    await run_jobs(app)
    await run_jobs(app)
    [sent] = zalo.fake.sends()
    assert sent.headers["access_token"] == "tok-1"
    assert sent.json() == {"recipient": {"user_id": USER}, "message": {"text": REPLY}}
    [out] = await _outgoing(client, world, channel)
    assert (out["status"], out["provider_id"]) == ("sent", "zmsg1")
    # Zalo's echo of our own send is dropped.
    echo = variant("oa_send_text", msg_id="zmsg1", text=REPLY)
    assert (await deliver(client, channel, echo)).status_code == 200
    assert len(await _outgoing(client, world, channel)) == 1


async def test_reply_retried_after_5xx_and_a_timeout_is_delivered_exactly_once(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    zalo.fake.plan.extend(["5xx", "hang", -32])
    await _reply(client, world, conversation["id"])
    await run_jobs(app)  # 503
    [out] = await _outgoing(client, world, channel)
    assert (out["status"], out["attempts"]) == ("queued", 1)
    await run_jobs(app)  # no answer in time: in doubt, waits for an echo
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "sending" and out["error"].startswith("in_doubt")
    await run_jobs(app)  # within the grace: nothing is resent
    assert list(zalo.fake.plan) == [-32]
    await age_sends(app)  # no echo came: it was not delivered
    await run_jobs(app)  # rate limited
    await run_jobs(app)  # delivered
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert (out["status"], out["attempts"]) == ("sent", 4)
    delivered = [r for r in zalo.fake.sends() if r.json()["message"]["text"] == REPLY]
    assert len(delivered) == 3  # the 503, the rate limit, the delivery (the hang saw none)
    assert out["provider_id"] == "zmsg3"


async def test_a_server_error_after_delivery_waits_for_the_echo_and_is_not_sent_again(
    app, client, world, zalo
):
    # HTTP 500 (or a gateway's 502/504) may come after Zalo handed the message on: the
    # reply is in doubt, not retried a second later (which delivered it twice).
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    zalo.fake.plan.append("500")
    await _reply(client, world, conversation["id"])
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "sending" and out["error"].startswith("in_doubt"), out
    await run_jobs(app)  # within the grace: not resent
    assert len(zalo.fake.sends()) == 1
    echo = variant("oa_send_text", msg_id="zmsg-500-echo", text=REPLY)
    assert (await deliver(client, channel, echo)).status_code == 200
    await age_sends(app)
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert (out["status"], out["provider_id"]) == ("sent", "zmsg-500-echo")
    assert len(zalo.fake.sends()) == 1


async def test_permanent_error_shows_the_reply_failed_with_its_reason(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    zalo.fake.plan.append(-230)
    await _reply(client, world, conversation["id"])
    await run_jobs(app)
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "failed"
    assert "7 ngày" in out["error"]
    assert len(zalo.fake.sends()) == 1


async def test_retries_running_out_fail_the_reply_never_mark_it_sent(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    zalo.fake.plan.extend(["5xx"] * 20)
    await _reply(client, world, conversation["id"])
    for _ in range(12):
        await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "failed" and "503" in out["error"]
    assert len(zalo.fake.sends()) == 10  # MAX_SENDS


async def test_reply_outside_the_7_day_window_fails_without_a_call(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, payload("user_send_text"))  # December 2024
    conversation = await conversation_of(client, world, channel)
    await _reply(client, world, conversation["id"])
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "failed"
    assert zalo.fake.sends() == []


async def _kill_mid_send(app, zalo) -> None:
    """Run the worker until the provider has the request, then stop it dead (no step 3)."""
    task = asyncio.create_task(run_jobs(app))
    for _ in range(200):
        if zalo.fake.sends():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # The job's lease runs out, as it does when a worker process dies.
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(Job).values(locked_until=None, status="queued"))


async def test_worker_killed_after_the_provider_got_the_reply_does_not_send_it_again(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    zalo.fake.hang_seconds = 1.0
    zalo.fake.plan.append("hang_then_ok")  # delivered; the worker dies before the answer
    await _reply(client, world, conversation["id"])
    await _kill_mid_send(app, zalo)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "sending"  # never shown sent before it is known
    await run_jobs(app)  # the job is taken again: within the grace, no resend
    assert len(zalo.fake.sends()) == 1
    # Zalo echoes what the OA sent: that confirms the delivery.
    echo = variant("oa_send_text", msg_id="zmsg1", text=REPLY)
    assert (await deliver(client, channel, echo)).status_code == 200
    await age_sends(app)
    await run_jobs(app)
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert (out["status"], out["provider_id"]) == ("sent", "zmsg1")
    assert len(zalo.fake.sends()) == 1


async def test_worker_killed_before_the_provider_delivered_sends_it_once_later(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    await _reply(client, world, conversation["id"])
    # The worker marked the send started, then died before the provider got anything.
    async with app.state.hotline.unit_of_work() as session:
        from hotline.channels.models import Message, MessageStatus
        from hotline.db import utcnow

        await session.execute(
            update(Message)
            .where(Message.direction == "out")
            .values(status=MessageStatus.SENDING, attempts=1, attempted_at=utcnow())
        )
    await run_jobs(app)
    assert zalo.fake.sends() == []  # no echo yet: it waits rather than risk a double
    await age_sends(app)  # no echo came: it was never delivered
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "sent"
    assert len(zalo.fake.sends()) == 1


async def test_expired_token_is_refreshed_stored_and_the_reply_sent(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    zalo.fake.access_token, zalo.fake.refresh_token = "tok-2", "ref-1"  # tok-1 expired
    zalo.fake.refreshes.append({})  # the pair Zalo gives next is tok-3 / ref-3
    await _reply(client, world, conversation["id"])
    await run_jobs(app)
    [out] = await _outgoing(client, world, channel)
    assert out["status"] == "sent"
    [refresh] = zalo.fake.refreshes[1:]
    assert refresh["refresh_token"] == ["ref-1"] and refresh["grant_type"] == ["refresh_token"]
    assert zalo.fake.sends()[-1].headers["access_token"] == "tok-3"
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        stored = await session.scalar(select(Channel.settings).where(Channel.id == channel))
    assert (stored["access_token"], stored["refresh_token"]) == ("tok-3", "ref-3")
    # A second reply uses the stored token: no refresh (the old refresh token is spent).
    await _reply(client, world, conversation["id"], "Thêm thông tin")
    await run_jobs(app)
    assert len(zalo.fake.refreshes) == 2


async def test_same_idempotency_key_is_one_reply(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    body = {"text": REPLY, "idempotency_key": "click-0001"}
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    first = await client.post(url, json=body, headers=world.auth("operator"))
    second = await client.post(url, json=body, headers=world.auth("operator"))
    assert first.json()["id"] == second.json()["id"]
    await run_jobs(app)
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1


async def test_resolving_a_case_opened_from_zalo_answers_the_citizen_on_zalo(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    await deliver(client, channel, payload("user_send_location"))
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/case",
        json={"category": "ho_tro_kho_khan", "urgent": False, "ward_code": "00004"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    case = (await client.get(f"/api/v1/cases/{code}", headers=world.auth("operator"))).json()
    assert case["channel"] == "zalo" and case["lat"] == 21.0313
    linked = await client.get(f"/api/v1/cases/{code}/conversations", headers=world.auth("operator"))
    assert [c["id"] for c in linked.json()] == [conversation["id"]]
    # A second citizen reported the same on Zalo; their case is merged into the first.
    from hotline.db import utcnow

    now_ms = str(int(utcnow().timestamp() * 1000))
    other = variant(
        "user_send_text", msg_id="o1", sender={"id": "777"}, text="Ngập ở Kim Mã", timestamp=now_ms
    )
    await deliver(client, channel, other)
    items = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()
    second = next(c for c in items["items"] if c["external_user_id"] == "777")
    r = await client.post(
        f"/api/v1/conversations/{second['id']}/case",
        json={"category": "ho_tro_kho_khan", "urgent": False},
        headers=world.auth("operator"),
    )
    dup = r.json()["code"]
    r = await client.post(
        f"/api/v1/cases/{dup}/duplicate",
        json={"original_code": code},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{code}/resolve",
        json={"answer": "Đội thoát nước đã xử lý xong"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    for _ in range(4):
        await run_jobs(app)
    texts = sorted(
        (r.json()["recipient"]["user_id"], r.json()["message"]["text"]) for r in zalo.fake.sends()
    )
    assert texts == [
        (USER, f"Tổng đài 1022 trả lời yêu cầu {code}: Đội thoát nước đã xử lý xong"),
        ("777", f"Tổng đài 1022 trả lời yêu cầu {dup}: Đội thoát nước đã xử lý xong"),
    ]
    # Run again: nobody is told twice.
    await run_due_jobs(app.state.hotline.sessionmaker)
    assert len(zalo.fake.sends()) == 2


async def test_replies_sent_by_concurrent_lanes_each_reach_zalo_once(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _fresh_conversation(client, world, channel)
    texts = [f"{REPLY} ({i})" for i in range(12)]
    for text in texts:
        await _reply(client, world, conversation["id"], text)
    zalo.fake.plan.extend(["5xx", "ok", "5xx"])
    for _ in range(3):  # the retries after the 503s are made due by run_jobs' first step
        await run_jobs(app)
        await run_due_jobs(app.state.hotline.sessionmaker, concurrency=4)
    sends = [r.json()["message"]["text"] for r in zalo.fake.sends()]
    # Every reply once, besides the two requests answered 503 (recorded by the fake too).
    assert sorted(set(sends)) == sorted(texts) and len(sends) == len(texts) + 2
    assert {m["status"] for m in await _outgoing(client, world, channel)} == {"sent"}
