"""A reply's retry is sent when it falls due: the worker does not wait for its next look
for new jobs (JOB_POLL), nor for another reply's slow answer (jobs/worker.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hotline.db import utcnow
from hotline.jobs import worker
from hotline.jobs.worker import run_due_jobs, run_worker
from tests.channels.zalo_helpers import (
    conversation_of,
    deliver,
    make_channel,
    variant,
    zalo_settings,
)

pytestmark = pytest.mark.anyio


async def _conversation(client, world, channel: int) -> dict:
    now_ms = str(int(utcnow().timestamp() * 1000))
    r = await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    assert r.status_code == 200
    return await conversation_of(client, world, channel)


async def _reply(client, world, conversation_id: int, text: str) -> None:
    r = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text


async def _statuses(client, world, channel: int) -> dict[str, str]:
    conversation = await conversation_of(client, world, channel)
    return {m["text"]: m["status"] for m in conversation["messages"] if m["direction"] == "out"}


async def test_a_retry_is_sent_when_due_not_at_the_next_look_for_new_jobs(
    app, client, world, zalo, settings, monkeypatch
):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _conversation(client, world, channel)
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    text = "Tổng đài đã nhận phản ánh"
    await _reply(client, world, conversation["id"], text)
    zalo.fake.plan.append("5xx")  # retried after about a second
    # The worker looks for new jobs once an hour here, and sweeps once an hour.
    monkeypatch.setattr(worker, "JOB_POLL", 3600.0)
    running = asyncio.create_task(run_worker(settings, interval=3600.0))
    try:
        for _ in range(150):  # a liveness bound, far above the retry's wait
            if (await _statuses(client, world, channel)).get(text) == "sent":
                break
            assert not running.done(), running
            await asyncio.sleep(0.2)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert (await _statuses(client, world, channel)) == {text: "sent"}
    assert len(zalo.fake.sends()) == 2  # the 503, then the retry


async def test_a_retry_falling_due_is_sent_while_another_reply_waits_for_its_answer(
    app, client, world, zalo
):
    # Room for a slow answer: the send timeout (1 s in the other tests) well above the retry's.
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, send_timeout=30),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    conversation = await _conversation(client, world, channel)
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    texts = ["Tổng đài đã nhận phản ánh số 1", "Tổng đài đã nhận phản ánh số 2"]
    for text in texts:
        await _reply(client, world, conversation["id"], text)
    # Sent together: the first request to arrive is answered only once the other reply's
    # retry has arrived (if that retry waits for this answer, the send times out and
    # stays in doubt); the second is answered 503.
    zalo.fake.plan.extend(["hold", "5xx"])

    async def release_after_the_retry() -> None:
        while len(zalo.fake.sends()) < 3:
            await asyncio.sleep(0.05)
        zalo.fake.release.set()

    releasing = asyncio.create_task(release_after_the_retry())
    try:
        # As many lanes as the worker's: it claims again while jobs run.
        await run_due_jobs(app.state.hotline.sessionmaker, concurrency=worker.CONCURRENCY)
    finally:
        releasing.cancel()
    assert (await _statuses(client, world, channel)) == {t: "sent" for t in texts}
    assert len(zalo.fake.sends()) == 3


async def test_the_worker_keeps_taking_replies_past_a_round_while_an_answer_is_held(
    app, client, world, zalo, settings, monkeypatch
):
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one job at a time")
    # Room for a slow answer: the send timeout well above the test's bound.
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, send_timeout=30),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    conversation = await _conversation(client, world, channel)
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    texts = ["Tổng đài đã nhận phản ánh số 1", "Tổng đài đã nhận phản ánh số 2"]
    # A round of one job: the worker has taken its round with the first reply, whose
    # answer is held until the second reply has reached the provider.
    monkeypatch.setattr(worker, "ROUND_JOBS", 1)
    zalo.fake.plan.append("hold")
    for text in texts:
        await _reply(client, world, conversation["id"], text)

    async def release_after_the_second() -> None:
        while len(zalo.fake.sends()) < 2:
            await asyncio.sleep(0.05)
        zalo.fake.release.set()

    releasing = asyncio.create_task(release_after_the_second())
    running = asyncio.create_task(run_worker(settings, interval=3600.0))
    try:
        for _ in range(50):  # 10 s: far above a look for new jobs (JOB_POLL)
            if set((await _statuses(client, world, channel)).values()) == {"sent"}:
                break
            assert not running.done(), running
            await asyncio.sleep(0.2)
    finally:
        releasing.cancel()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert (await _statuses(client, world, channel)) == {t: "sent" for t in texts}
    assert len(zalo.fake.sends()) == 2


async def test_the_periodic_sweeps_run_without_waiting_for_a_held_answer(
    app, client, world, zalo, settings
):
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one job at a time")
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, send_timeout=30),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    conversation = await _conversation(client, world, channel)
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    texts = ["Tổng đài đã nhận phản ánh số 1", "Tổng đài đã nhận phản ánh số 2"]
    # The first reply's answer is held until the second has reached the provider; the
    # second is written once the first is out, and found by the look for new jobs that
    # follows the sweeps (every half second here).
    zalo.fake.plan.append("hold")
    await _reply(client, world, conversation["id"], texts[0])

    async def second_reply_then_release() -> None:
        while len(zalo.fake.sends()) < 1:
            await asyncio.sleep(0.05)
        await _reply(client, world, conversation["id"], texts[1])
        while len(zalo.fake.sends()) < 2:
            await asyncio.sleep(0.05)
        zalo.fake.release.set()

    releasing = asyncio.create_task(second_reply_then_release())
    running = asyncio.create_task(run_worker(settings, interval=0.5))
    try:
        for _ in range(50):  # 10 s: far above the sweeps' period
            if set((await _statuses(client, world, channel)).values()) == {"sent"}:
                break
            assert not running.done(), running
            await asyncio.sleep(0.2)
    finally:
        releasing.cancel()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert (await _statuses(client, world, channel)) == {t: "sent" for t in texts}
    assert len(zalo.fake.sends()) == 2
