"""Live events: published after commit only, filtered per user, streamed as SSE."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import uvicorn

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.cases import service
from hotline.events import DomainEvent
from hotline.web.sse import as_seen_by, visible
from tests.cases.helpers import API, create, forward
from tests.conftest import live_events, new_case_body

pytestmark = pytest.mark.anyio


async def _drain(app, queue: asyncio.Queue) -> list[DomainEvent]:
    """What the event log delivered to this subscriber so far (committed events)."""
    await app.state.hotline.feed.sync()
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


async def test_created_case_is_published_with_its_code(app, client, world):
    async with live_events(app) as queue:
        case = await create(client, world)
        got = await _drain(app, queue)
    assert [e.kind for e in got] == ["case.created"]
    assert got[0].case_code == case["code"]
    assert got[0].data["status"] == "new"
    assert got[0].data["actor"] == "operator"
    assert got[0].unit_ids == ()


async def test_forward_event_names_the_unit(app, client, world):
    code = (await create(client, world))["code"]
    async with live_events(app) as queue:
        await forward(client, world, code, "ward_a")
        got = await _drain(app, queue)
    assert [e.kind for e in got] == ["case.forwarded"]
    assert got[0].case_code == code
    assert got[0].unit_ids == (world.units["ward_a"],)


async def test_failed_request_publishes_nothing(app, client, world):
    code = (await create(client, world))["code"]
    async with live_events(app) as queue:
        r = await client.post(
            API, json=new_case_body(ward_code="99999"), headers=world.auth("operator")
        )
        assert r.status_code >= 400
        r = await client.post(f"{API}/{code}/close", headers=world.auth("operator"))
        assert r.status_code == 409
        r = await client.post(API, json=new_case_body(), headers=world.auth("officer"))
        assert r.status_code == 403
        assert await _drain(app, queue) == []


async def test_rolled_back_unit_of_work_publishes_nothing(app, client, world):
    from hotline.auth.service import SYSTEM

    state = app.state.hotline
    async with live_events(app) as queue:
        with pytest.raises(RuntimeError):
            async with state.unit_of_work() as session:
                case = await service.open_case(
                    session, actor=SYSTEM, data=service.NewCase(channel="web", description="x")
                )
                code = case.code
                raise RuntimeError("boom after the timeline was written")
        assert await _drain(app, queue) == []
    r = await client.get(f"{API}/{code}", headers=world.auth("operator"))
    assert r.status_code == 404
    # The next successful transaction publishes only its own events.
    async with live_events(app) as queue:
        fresh = await create(client, world)
        assert [e.case_code for e in await _drain(app, queue)] == [fresh["code"]]


def test_visible_filters_events_by_unit():
    event_a = DomainEvent(kind="case.forwarded", case_code="ABCD-2345", unit_ids=(1, 2))
    event_none = DomainEvent(kind="case.created", case_code="ABCD-2346", unit_ids=())
    officer_1 = Actor(user_id=5, username="o1", role=Role.UNIT_OFFICER, unit_id=1)
    officer_3 = Actor(user_id=6, username="o3", role=Role.UNIT_OFFICER, unit_id=3)
    doctor_2 = Actor(user_id=7, username="d2", role=Role.DOCTOR, unit_id=2)
    unitless = Actor(user_id=8, username="u", role=Role.UNIT_OFFICER, unit_id=None)
    for staff_role in (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR):
        staff = Actor(user_id=1, username="s", role=staff_role)
        assert visible(staff, event_a) and visible(staff, event_none)
    assert visible(officer_1, event_a)
    assert visible(doctor_2, event_a)
    assert not visible(officer_3, event_a)
    assert not visible(officer_1, event_none)
    assert not visible(unitless, event_a)
    assert not visible(unitless, event_none)


def test_draft_and_archived_article_events_reach_editors_only():
    def article(status: str) -> DomainEvent:
        return DomainEvent(kind="article.saved", data={"slug": "giay-di-duong", "status": status})

    operator = Actor(user_id=1, username="op", role=Role.OPERATOR)
    supervisor = Actor(user_id=2, username="sup", role=Role.SUPERVISOR)
    officer = Actor(user_id=3, username="o1", role=Role.UNIT_OFFICER, unit_id=1)
    for status in ("draft", "archived"):
        assert visible(supervisor, article(status))
        assert not visible(operator, article(status))
        assert not visible(officer, article(status))
    # Published articles are read by every signed-in role, so is the news of them.
    assert visible(operator, article("published")) and visible(officer, article("published"))


def test_live_merge_events_keep_other_reporters_from_units():
    merged = DomainEvent(
        kind="case.merged",
        case_code="ABCD-2345",
        unit_ids=(1,),
        data={
            "duplicates": ["ABCD-2346"],
            "reporters": [{"case": "ABCD-2346", "channel": "phone", "contact_id": 9}],
        },
    )
    officer = Actor(user_id=5, username="o1", role=Role.UNIT_OFFICER, unit_id=1)
    supervisor = Actor(user_id=2, username="sup", role=Role.SUPERVISOR)

    assert as_seen_by(officer, merged)["data"] == {"duplicates": ["ABCD-2346"]}
    assert as_seen_by(supervisor, merged)["data"] == merged.data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def _serve(app):
    port = _free_port()
    # Kept-alive connections outlive a test's pauses: at uvicorn's default of 5 s the server
    # may close one just as the client reuses it ("Server disconnected without sending a
    # response"), which browsers retry and httpx does not.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_keep_alive=120,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _next_event(lines, kind: str) -> dict:
    """The data of the next SSE event of this kind."""
    current = None
    async for line in lines:
        if line.startswith("event:"):
            current = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and current == kind:
            return json.loads(line.split(":", 1)[1].strip())
    raise AssertionError(f"stream ended before {kind}")


async def test_sse_stream_delivers_case_created_over_http(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
        http.stream("GET", "/api/v1/events", headers=world.auth("supervisor")) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.aiter_lines()
        ready = await _next_event(lines, "ready")
        assert ready == {"user": "supervisor"}
        created = await http.post(API, json=new_case_body(), headers=world.auth("operator"))
        assert created.status_code == 201, created.text
        event = await _next_event(lines, "case.created")
        assert event["case_code"] == created.json()["code"]
        assert event["kind"] == "case.created"


async def test_sse_stream_requires_authentication(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
    ):
        r = await http.get("/api/v1/events")
        assert r.status_code == 401


async def _messages(lines) -> AsyncIterator[dict]:
    """SSE messages as {"event", "id", "data"}, comments (pings) skipped."""
    message: dict = {}
    async for line in lines:
        if not line:
            if "event" in message:
                yield message
            message = {}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            message[field] = value[1:] if value.startswith(" ") else value


async def _until(messages, kind: str) -> dict:
    async for m in messages:
        if m["event"] == kind:
            return m
    raise AssertionError(f"stream ended before {kind}")


async def test_a_stream_resumed_with_last_event_id_gets_exactly_what_it_missed(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(60),
    ):
        auth = world.auth("supervisor")
        async with http.stream("GET", "/api/v1/events", headers=auth) as r:
            messages = _messages(r.aiter_lines())
            await _until(messages, "ready")
            seen = await http.post(API, json=new_case_body(), headers=world.auth("operator"))
            first = await _until(messages, "case.created")
            assert json.loads(first["data"])["case_code"] == seen.json()["code"]
        # Offline: two intakes and a forwarding.
        missed = [(await create(http, world))["code"] for _ in range(2)]
        await forward(http, world, missed[0], "ward_a")
        expected = [("case.created", missed[0]), ("case.created", missed[1])]
        expected.append(("case.forwarded", missed[0]))
        for how in ("header", "query"):
            if how == "header":
                resume = http.stream(
                    "GET", "/api/v1/events", headers={**auth, "Last-Event-ID": first["id"]}
                )
            else:
                resume = http.stream(
                    "GET", f"/api/v1/events?last_event_id={first['id']}", headers=auth
                )
            async with resume as r:
                messages = _messages(r.aiter_lines())
                ready = await messages.__anext__()
                assert ready["event"] == "ready"
                got = []
                ids = []
                while len(got) < len(expected):
                    m = await messages.__anext__()
                    got.append((m["event"], json.loads(m["data"])["case_code"]))
                    ids.append(int(m["id"]))
                assert got == expected
                assert ids == sorted(ids) and ids[0] > int(first["id"])
                # Then live, nothing repeated.
                live = await create(http, world)
                m = await messages.__anext__()
                assert (m["event"], json.loads(m["data"])["case_code"]) == (
                    "case.created",
                    live["code"],
                )
                expected.append(("case.created", live["code"]))


async def test_a_resumed_stream_replays_only_what_the_user_may_see(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(60),
    ):
        auth = world.auth("officer")  # ward_a's officer
        async with http.stream("GET", "/api/v1/events", headers=auth) as r:
            ready = await _until(_messages(r.aiter_lines()), "ready")
        ours, theirs = (await create(http, world))["code"], (await create(http, world))["code"]
        await forward(http, world, theirs, "ward_b")
        await forward(http, world, ours, "ward_a")
        headers = {**auth, "Last-Event-ID": ready["id"]}
        async with http.stream("GET", "/api/v1/events", headers=headers) as r:
            messages = _messages(r.aiter_lines())
            await _until(messages, "ready")
            m = await messages.__anext__()
    assert (m["event"], json.loads(m["data"])["case_code"]) == ("case.forwarded", ours)


async def test_case_overdue_from_the_worker_process_reaches_an_sse_client(app, world, settings):
    import os
    import sys

    from sqlalchemy import update

    from hotline.cases.models import CaseAssignment
    from hotline.db import utcnow

    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(90),
    ):
        code = (await create(http, world))["code"]
        assignment = await forward(http, world, code, "ward_a", deadline_hours=1)
        async with app.state.hotline.sessionmaker() as session, session.begin():
            await session.execute(
                update(CaseAssignment)
                .where(CaseAssignment.id == assignment["id"])
                .values(due_at=utcnow() - timedelta(hours=3))
            )
        async with http.stream("GET", "/api/v1/events", headers=world.auth("officer")) as r:
            messages = _messages(r.aiter_lines())
            await _until(messages, "ready")
            env = {
                **os.environ,
                "HOTLINE_DATABASE_URL": settings.database_url,
                "HOTLINE_VAR_DIR": str(settings.var_dir),
            }
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hotline.cli", "worker", "--once", env=env
            )
            assert await worker.wait() == 0
            overdue = await _until(messages, "case.overdue")
    assert json.loads(overdue["data"])["case_code"] == code
