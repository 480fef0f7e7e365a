"""The operator queue against real peers: sipp phones that REGISTER with digest and answer,
sipp callers that wait, get an operator, ask for a callback or call outside hours."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.agents.models import Agent
from hotline.agents.service import set_sip_credentials
from hotline.auth.service import SYSTEM, create_user
from hotline.calls.models import Callback
from hotline.db import create_engine, make_sessionmaker
from hotline.events import DomainEvent
from hotline.settings import Settings
from hotline.site import Site
from tests.telephony.conftest import (
    SCENARIOS,
    Line,
    free_udp_port,
    line_settings,
    on_duty,
    start_line,
    web_feed,
)

pytestmark = pytest.mark.anyio
PASSWORD = "op1-secret-pw"
# Short texts for the queue's prompts keep each call to a few seconds; the callback offer
# is long enough that the caller's key lands while it plays.
QUEUE_TEXTS = {
    **{f"position_{n}": "một" for n in range(1, 21)},
    "position_many": "hai",
    "callback_offer": "Nhấn phím 1 để giữ chỗ và được gọi lại.",
    "callback_ok": "ba",
    "hours_doctor": "bốn",
}


async def add_operator(settings: Settings, *, available: bool = True, username: str = "op1") -> int:
    engine = create_engine(settings.effective_database_url, pool_size=2)
    try:
        return await _add_operator(engine, settings, available, username)
    finally:
        await engine.dispose()


async def _add_operator(
    engine: AsyncEngine, settings: Settings, available: bool, username: str
) -> int:
    sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
    async with sessionmaker() as session, session.begin():
        user = await create_user(
            session, username=username, password="operator-pass-1", role="operator"
        )
        await set_sip_credentials(
            session,
            actor=SYSTEM,
            user_id=user.id,
            username=username,
            password=PASSWORD,
            realm=settings.sip_realm,
        )
        if available:
            await on_duty(session, user.id)
        return user.id


@pytest.fixture
async def acd_line(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    running = await start_line(
        line_settings(settings, sip_callback_after=0.5, sip_agent_poll_seconds=0.2),
        texts=QUEUE_TEXTS,
    )
    yield running
    await running.phone.stop()


async def run_sipp(args: list[str], timeout: float = 40) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")[-3000:]


def phone_args(line: Line, scenario: str, port: int, *extra: str, user: str = "op1") -> list[str]:
    return [
        *("sipp", f"127.0.0.1:{line.port}", "-sf", str(SCENARIOS / scenario)),
        *("-m", "1", "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_udp_port())),
        *("-s", user, "-timeout", "25s", "-timeout_error", "-nostdin"),
        *extra,
    ]


async def register(
    line: Line, port: int, password: str = PASSWORD, user: str = "op1"
) -> tuple[int, str]:
    args = phone_args(line, "register_operator.xml", port, "-au", user, "-ap", password, user=user)
    return await run_sipp(args)


async def agent_row(line: Line, user_id: int) -> Agent:
    assert line.phone.engine is not None
    sessionmaker = make_sessionmaker(line.phone.engine, Site.from_settings(line.phone.settings))
    async with sessionmaker() as session:
        agent = await session.get(Agent, user_id)
        assert agent is not None
        return agent


async def test_register_with_digest_binds_the_phone_and_expires_0_removes_it(
    settings: Settings, acd_line: Line
):
    await add_operator(settings)
    await asyncio.sleep(0.5)  # the line's poll picks up the credentials
    port = free_udp_port()
    code, out = await register(acd_line, port)
    assert code == 0, out
    ua = acd_line.phone.ua
    assert ua is not None
    binding = ua.registrar.lookup("op1")
    assert binding is not None and binding.source == ("127.0.0.1", port)
    code, out = await run_sipp(
        phone_args(acd_line, "unregister_operator.xml", free_udp_port(), "-ap", PASSWORD)
    )
    assert code == 0, out
    assert ua.registrar.lookup("op1") is None


async def test_register_with_a_wrong_password_or_unknown_user_is_refused(
    settings: Settings, acd_line: Line
):
    await add_operator(settings)
    await asyncio.sleep(0.5)
    args = phone_args(acd_line, "register_wrong_password.xml", free_udp_port())
    code, out = await run_sipp([*args, "-au", "op1", "-ap", "not-the-password"])
    assert code == 0, out
    args = phone_args(acd_line, "register_wrong_password.xml", free_udp_port())
    code, out = await run_sipp([*args, "-s", "nobody", "-ap", "whatever-pw"])
    assert code == 0, out
    ua = acd_line.phone.ua
    assert ua is not None and ua.registrar.bindings == {}


@pytest.fixture
async def redis_line(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    """The line as `hotline sip` runs it with HOTLINE_REDIS_URL: Redis wakes the web."""
    from tests.events.test_event_log import REDIS_URL, _redis_up

    if not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (it is part of the test machine)")
    running = await start_line(
        line_settings(settings, sip_agent_poll_seconds=0.2, redis_url=REDIS_URL),
        texts=QUEUE_TEXTS,
    )
    yield running
    await running.phone.stop()


async def test_operator_answers_the_queue_and_hears_the_caller(
    settings: Settings, redis_line: Line
):
    """Also: the console pop crosses processes through the event log, woken by Redis, as
    between `hotline sip` and the web app (here a feed on its own engine stands for the
    web process)."""
    from tests.events.test_event_log import REDIS_URL

    # Same database, so the same channel prefix as the line derives for itself.
    async with web_feed(line_settings(settings, redis_url=REDIS_URL)) as web:
        await _operator_answers(settings, redis_line, web)


async def test_without_redis_the_console_pop_reaches_the_web_process_through_the_log(
    settings: Settings, acd_line: Line
):
    """`make run`: no Redis; the line and the web app (served over HTTP) share only the
    database (SQLite polled, PostgreSQL NOTIFY). The operator's console is an SSE stream."""
    import httpx

    from hotline.app import create_app
    from tests.cases.test_events_sse import _messages, _serve

    assert not settings.redis_url
    user_id = await add_operator(settings)
    app = create_app(settings)
    await app.state.hotline.start_events()
    console = _SseConsole()
    try:
        async with _serve(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
            r = await http.post(
                "/api/v1/auth/token", data={"username": "op1", "password": "operator-pass-1"}
            )
            assert r.status_code == 200, r.text
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            async with http.stream("GET", "/api/v1/events", headers=headers) as stream:
                reader = asyncio.create_task(console.read(_messages(stream.aiter_lines())))
                await asyncio.wait_for(console.ready.wait(), 10)
                try:
                    await _operator_answers(settings, acd_line, console, user_id=user_id)
                finally:
                    reader.cancel()
    finally:
        await app.state.hotline.close()


class _SseConsole:
    """The operator's console as the browser has it: the SSE stream's events."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.queue: asyncio.Queue[DomainEvent] = asyncio.Queue()

    async def read(self, messages: Any) -> None:
        async for m in messages:
            if m["event"] == "ready":
                self.ready.set()
            else:
                body = json.loads(m["data"])
                self.queue.put_nowait(DomainEvent(kind=m["event"], data=body["data"]))

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[DomainEvent]]:
        yield self.queue


async def _operator_answers(
    settings: Settings, acd_line: Line, bus: Any, *, user_id: int | None = None
) -> None:
    if user_id is None:
        user_id = await add_operator(settings)
    await asyncio.sleep(0.5)
    phone_port = free_udp_port()
    code, out = await register(acd_line, phone_port)
    assert code == 0, out
    # Where the operator's phone takes audio: a socket of ours, named in its SDP answer.
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    media.settimeout(0.2)
    args = phone_args(acd_line, "operator_phone_answers.xml", phone_port)
    args += ["-key", "opport", str(media.getsockname()[1])]
    phone = asyncio.create_task(run_sipp(args))
    await asyncio.sleep(0.5)  # the phone listens before the caller dials
    received: list[bytes] = []

    def listen() -> None:
        for _ in range(400):
            try:
                received.append(media.recv(2048))
            except TimeoutError:
                if len(received) > 50:
                    return

    listener = asyncio.create_task(asyncio.to_thread(listen))
    async with bus.subscribe() as events:
        result = await acd_line.sipp("caller_to_operator.xml")
        popped = []
        async with asyncio.timeout(10):
            while not popped:
                popped = [e for e in [await events.get()] if e.kind == "call.answered"]
        await asyncio.sleep(1.5)  # nothing else of that kind follows
        popped += [e for e in _drain(events) if e.kind == "call.answered"]
    assert result.returncode == 0, result.output
    code, out = await phone
    assert code == 0, out
    await listener
    media.close()
    [call] = await acd_line.calls()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert (call.branch, call.operator_id, call.menu_path) == ("operator", user_id, "4")
    assert call.answered_at is not None and call.ended_at is not None
    # Marked with the line's instance, which closes it at start-up were it left open.
    assert call.instance == acd_line.phone.settings.sip_instance_id
    assert call.answered_at >= call.started_at and call.queue_wait_seconds <= 2
    # The caller's A-law audio from the pcap reached the operator's phone, re-stamped.
    audio = [p for p in received if len(p) > 12 and p[1] & 0x7F == 8]
    assert len(audio) > 50
    ssrcs = {struct.unpack_from("!I", p, 8)[0] for p in audio}
    assert len(ssrcs) == 1
    agent = await agent_row(acd_line, user_id)
    assert agent.status.value == "available" and agent.current_call_id is None
    # The operator's console was told, with the call's id to open the caller's card.
    [event] = popped
    assert event.data["call_id"] == call.id and event.data["operator_id"] == user_id
    assert event.data["caller"] == "+84912345678" and event.data["new_case"]["call_id"] == call.id


def _drain(queue: asyncio.Queue[DomainEvent]) -> list[DomainEvent]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


@pytest.mark.parametrize("scenario", ["queue_callback_press_1.xml", "queue_callback_rfc4733_1.xml"])
async def test_callback_offer_accepted_keeps_the_place(
    settings: Settings, acd_line: Line, scenario: str
):
    await add_operator(settings, available=False)  # nobody free: the caller waits
    result = await acd_line.sipp(scenario)
    assert result.returncode == 0, result.output
    [call] = await acd_line.calls()
    assert call.outcome is not None and call.outcome.value == "callback_requested"
    assert call.branch == "operator" and call.answered_at is None
    assert acd_line.phone.engine is not None
    sessionmaker = make_sessionmaker(
        acd_line.phone.engine, Site.from_settings(acd_line.phone.settings)
    )
    async with sessionmaker() as session:
        [callback] = (await session.scalars(select(Callback))).all()
    assert (callback.call_id, callback.caller, callback.status.value) == (
        call.id,
        "+84912345678",
        "open",
    )
    assert call.started_at <= callback.queued_at <= call.ended_at  # type: ignore[operator]


async def test_doctor_branch_outside_hours(settings: Settings, sipp_installed: None):
    # 12:30 in Hà Nội: between the morning and afternoon consultations.
    noon = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)
    running = await start_line(line_settings(settings), texts=QUEUE_TEXTS, now=lambda: noon)
    try:
        result = await running.sipp("outside_hours_line_hangs_up.xml")
        assert result.returncode == 0, result.output
        [call] = await running.calls()
        assert call.outcome is not None and call.outcome.value == "outside_hours"
        assert (call.branch, call.menu_path) == ("doctor", "3")
    finally:
        await running.phone.stop()


@pytest.mark.parametrize("unanswered", ["operator_phone_busy.xml", "operator_phone_no_answer.xml"])
async def test_a_busy_or_unanswered_phone_is_skipped_for_the_next_operator(
    settings: Settings, sipp_installed: None, unanswered: str
):
    acd_line = await start_line(
        line_settings(settings, sip_agent_poll_seconds=0.2, sip_agent_ring_seconds=1.0),
        texts=QUEUE_TEXTS,
    )
    try:
        await _skip_to_next_operator(settings, acd_line, unanswered)
    finally:
        await acd_line.phone.stop()


async def _skip_to_next_operator(settings: Settings, acd_line: Line, unanswered: str) -> None:
    busy_id = await add_operator(settings, username="op1")  # idle the longest: rung first
    await asyncio.sleep(0.05)
    free_id = await add_operator(settings, username="op2")
    await asyncio.sleep(0.5)
    busy_port, free_port = free_udp_port(), free_udp_port()
    for user, port in (("op1", busy_port), ("op2", free_port)):
        code, out = await register(acd_line, port, user=user)
        assert code == 0, out
    busy = asyncio.create_task(run_sipp(phone_args(acd_line, unanswered, busy_port, user="op1")))
    media = free_udp_port()
    args = phone_args(acd_line, "operator_phone_answers.xml", free_port, user="op2")
    answering = asyncio.create_task(run_sipp([*args, "-key", "opport", str(media)]))
    await asyncio.sleep(0.5)
    result = await acd_line.sipp("caller_to_operator.xml")
    assert result.returncode == 0, result.output
    for task in (busy, answering):
        code, out = await task
        assert code == 0, out
    [call] = await acd_line.calls()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert call.operator_id == free_id
    missed = await agent_row(acd_line, busy_id)
    assert missed.missed == 1 and missed.status.value == "available"


async def test_operator_at_a_fixed_uri_answers_and_hangs_up_first(
    settings: Settings, acd_line: Line
):
    """A phone that never registers, reached at its configured URI; its BYE ends the call."""
    phone_port = free_udp_port()
    engine = create_engine(settings.effective_database_url, pool_size=2)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        async with sessionmaker() as session, session.begin():
            user = await create_user(
                session, username="desk7", password="operator-pass-1", role="operator"
            )
            await set_sip_credentials(
                session,
                actor=SYSTEM,
                user_id=user.id,
                username="desk7",
                password=PASSWORD,
                realm=settings.sip_realm,
                uri=f"sip:desk7@127.0.0.1:{phone_port}",
            )
            await on_duty(session, user.id)
            user_id = user.id
    finally:
        await engine.dispose()
    await asyncio.sleep(0.5)
    args = phone_args(acd_line, "operator_phone_hangs_up.xml", phone_port, user="desk7")
    phone = asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))
    await asyncio.sleep(0.5)
    result = await acd_line.sipp("caller_operator_hangs_up.xml")
    assert result.returncode == 0, result.output
    code, out = await phone
    assert code == 0, out
    [call] = await acd_line.calls()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert call.operator_id == user_id and call.talk_seconds >= 1
    agent = await agent_row(acd_line, user_id)
    assert agent.status.value == "available"


async def test_first_in_the_queue_is_answered_first_the_other_abandons(
    settings: Settings, acd_line: Line
):
    user_id = await add_operator(settings, available=False)
    await asyncio.sleep(0.5)
    phone_port = free_udp_port()
    code, out = await register(acd_line, phone_port)
    assert code == 0, out
    args = phone_args(acd_line, "operator_phone_answers.xml", phone_port)
    phone = asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))

    def caller(number: str) -> asyncio.Task[Any]:
        extra = ("-s", number, "-d", "4000")
        return asyncio.create_task(acd_line.sipp("caller_waits_then_hangs_up.xml", extra=extra))

    first = caller("0912000001")
    await asyncio.sleep(0.7)
    second = caller("0912000002")
    await asyncio.sleep(0.8)
    ua = acd_line.phone.ua
    acd = acd_line.phone.acd
    assert ua is not None and acd is not None
    assert [acd.position(w) for w in acd.queues["operator"]] == [1, 2]
    engine = create_engine(settings.effective_database_url, pool_size=2)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        async with sessionmaker() as session, session.begin():
            await on_duty(session, user_id)
    finally:
        await engine.dispose()
    for task in (first, second):
        result = await task
        assert result.returncode == 0, result.output
    code, out = await phone
    assert code == 0, out
    calls = {c.caller: c for c in await acd_line.calls()}
    answered, abandoned = calls["+84912000001"], calls["+84912000002"]
    assert answered.outcome is not None and answered.outcome.value == "answered"
    assert answered.operator_id == user_id and answered.queue_wait_seconds >= 1
    assert abandoned.outcome is not None and abandoned.outcome.value == "abandoned_queue"
    assert abandoned.operator_id is None and abandoned.answered_at is None
