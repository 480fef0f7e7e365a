"""The line's callback tries in the database: one claim per try, retries spaced by the
queue's rule, failed after the last try, done when connected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.calls.dialling import claim_callback, due_callbacks, record_attempt
from hotline.calls.models import CallbackResult
from hotline.calls.service import NewCall, record_call
from hotline.db import create_engine, make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[Any]:
    engine = create_engine(settings.effective_database_url)
    yield make_sessionmaker(engine, Site.from_settings(settings))
    await engine.dispose()


async def _callback(sessions: Any, branch: str = "violations") -> int:
    async with sessions() as session, session.begin():
        call = await record_call(
            session,
            data=NewCall(
                line="1022",
                caller="+84912345678",
                started_at=T0,
                ended_at=T0 + timedelta(seconds=90),
                branch=branch,
                outcome="callback_requested",
                queued_at=T0 + timedelta(seconds=5),
            ),
        )
        return call.id


async def _try(sessions: Any, now: datetime, result: CallbackResult) -> Any:
    async with sessions() as session, session.begin():
        [due] = await due_callbacks(session, branches=["violations"], now=now)
        assert await claim_callback(session, callback=due, now=now, hold=60)
        # The same try seen by a second line instance: already taken.
        assert not await claim_callback(session, callback=due, now=now, hold=60)
        return await record_attempt(
            session,
            callback_id=due.id,
            started_at=now,
            ended_at=now + timedelta(seconds=20),
            result=result,
            operator_id=None,
            max_attempts=2,
            retry_after=300,
        )


async def test_an_unanswered_callback_is_retried_after_the_queues_wait_then_fails(sessions):
    await _callback(sessions)
    async with sessions() as session:
        assert await due_callbacks(session, branches=["operator"], now=T0) == []
    callback = await _try(sessions, T0, CallbackResult.NO_ANSWER)
    assert (callback.status.value, callback.attempts) == ("open", 1)
    assert callback.next_attempt_at == T0 + timedelta(seconds=320)
    async with sessions() as session:  # not due again before then
        assert (
            await due_callbacks(session, branches=["violations"], now=T0 + timedelta(days=1)) != []
        )
        assert (
            await due_callbacks(session, branches=["violations"], now=T0 + timedelta(seconds=319))
            == []
        )
    callback = await _try(sessions, T0 + timedelta(seconds=320), CallbackResult.AGENT_MISSED)
    assert (callback.status.value, callback.attempts, callback.next_attempt_at) == (
        "failed",
        2,
        None,
    )
    async with sessions() as session:
        assert (
            await due_callbacks(session, branches=["violations"], now=T0 + timedelta(days=1)) == []
        )


async def test_a_connected_callback_is_done(sessions):
    await _callback(sessions)
    callback = await _try(sessions, T0, CallbackResult.CONNECTED)
    assert (callback.status.value, callback.attempts, callback.done_at) == (
        "done",
        1,
        T0 + timedelta(seconds=20),
    )


async def test_staff_read_a_callbacks_tries_others_do_not(sessions, client, world):
    await _callback(sessions)
    await _try(sessions, T0, CallbackResult.NO_ANSWER)
    async with sessions() as session:
        [callback_id] = [
            c.id
            for c in await due_callbacks(
                session, branches=["violations"], now=T0 + timedelta(days=1)
            )
        ]
    url = f"/api/v1/callbacks/{callback_id}/attempts"
    r = await client.get(url, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    assert [(a["result"], a["operator_id"]) for a in r.json()] == [("no_answer", None)]
    assert (await client.get(url, headers=world.auth("officer"))).status_code == 403
    r = await client.get("/api/v1/callbacks/999999/attempts", headers=world.auth("operator"))
    assert r.status_code == 404 and r.json()["field"] == "callback_id"
