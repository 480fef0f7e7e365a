"""Echoes of the account's own sends (Zalo's `oa_send_text`) on PostgreSQL: one whose send
is already recorded (the provider's id on the reply), or a repeat of an event already
stored, is answered after a lookup shared by the echoes arriving together, without the
portable path's transaction (channels/inbox_pg.py, hooks_batch.EchoLookup); any other echo
takes that path as before: it confirms a send in doubt, or stores a message sent from
Zalo's own tool."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select

from hotline.channels.models import Message
from hotline.db import utcnow
from tests.channels.zalo_helpers import (
    conversation_of,
    deliver,
    make_channel,
    run_jobs,
    variant,
)

pytestmark = pytest.mark.anyio


def _reply_text(n: int) -> str:
    return f"Tổng đài đã chuyển phản ánh số {n} tới UBND phường"


async def _out(app) -> list[tuple[str, str, str | None]]:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        rows = await session.execute(
            select(Message.text, Message.status, Message.provider_id)
            .where(Message.direction == "out")
            .order_by(Message.id)
        )
        return [(t, str(s), p) for t, s, p in rows.all()]


async def test_echoes_of_recorded_sends_skip_the_transaction_and_the_others_are_stored_as_before(
    app, client, world, zalo, settings
):
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("the shared lookup is PostgreSQL's (SQLite takes the portable path)")
    channel = await make_channel(client, world, zalo.url)  # send timeout 1 s
    now_ms = str(int(utcnow().timestamp() * 1000))  # the reply window is open
    r = await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    assert r.status_code == 200
    await run_jobs(app)  # the citizen's text read
    conversation = await conversation_of(client, world, channel)
    for n in range(1, 5):
        r = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": _reply_text(n)},
            headers=world.auth("operator"),
        )
        assert r.status_code == 202, r.text
    # Three answered in time (their ids recorded); the fourth delivered, answered too late.
    zalo.fake.plan.extend(["ok", "ok", "ok", "hang_then_ok"])
    await run_jobs(app)
    before = await _out(app)
    recorded = [p for _, status, p in before if status == "sent"]
    assert len(recorded) == 3 and all(recorded), before
    assert before[3][1:] == ("sending", None)  # in doubt: its echo confirms it

    bodies = [
        variant("oa_send_text", msg_id=p, text=_reply_text(i + 1)) for i, p in enumerate(recorded)
    ]
    bodies += bodies  # Zalo redelivers an event it got no answer for in time
    bodies.append(variant("oa_send_text", msg_id="zmsg-late", text=_reply_text(4)))
    bodies.append(variant("oa_send_text", msg_id="zalo-tool-1", text="Gửi từ công cụ của Zalo"))
    begun: list[object] = []
    engine = app.state.hotline.engine.sync_engine
    listener = lambda conn: begun.append(conn)  # noqa: E731
    event.listen(engine, "begin", listener)
    try:
        answers = await asyncio.gather(*(deliver(client, channel, b) for b in bodies))
    finally:
        event.remove(engine, "begin", listener)
    assert [a.status_code for a in answers] == [200] * len(bodies)
    # Only the two echoes that change something took a transaction of the portable path.
    assert len(begun) == 2

    after = await _out(app)
    assert after[:3] == before[:3]
    assert after[3] == (_reply_text(4), "sent", "zmsg-late")
    assert after[4:] == [("Gửi từ công cụ của Zalo", "sent", "zalo-tool-1")]
    # Once more, all of them: every one a repeat now, none with a transaction.
    event.listen(engine, "begin", listener)
    try:
        answers = await asyncio.gather(*(deliver(client, channel, b) for b in bodies))
    finally:
        event.remove(engine, "begin", listener)
    assert [a.status_code for a in answers] == [200] * len(bodies)
    assert len(begun) == 2
    assert await _out(app) == after
