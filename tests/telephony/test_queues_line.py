"""Configured queues against real peers: key 4 reaches a registered member of the violations
desk; a queue outside its hours overflows to voicemail and the message becomes a case; a
callback promised in a queue is dialled by the line when a member is free (the citizen's
phone a sipp UAS, the operator's a registered sipp phone) and bridged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hotline.auth.service import SYSTEM
from hotline.calls.models import Callback, CallbackAttempt, CallDirection
from hotline.cases.models import Case
from hotline.db import create_engine, make_sessionmaker
from hotline.phoneconfig import service
from hotline.phoneconfig.defaults import default_config
from hotline.recordings.models import CallRecording
from hotline.settings import Settings
from hotline.site import Site
from hotline.telephony.server import PhoneLine
from tests.telephony.conftest import Line, free_udp_port, line_settings, on_duty
from tests.telephony.test_acd import add_operator, phone_args, register, run_sipp

pytestmark = pytest.mark.anyio
# Monday 23 November 2026, 12:00 in Hà Nội (UTC+7).
NOON = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
SHORT = {"queue": "bốn", "callback_ok": "ba", "voicemail": "năm", "position_1": "một"}


async def configure(settings: Settings, kind: str, key: str, data: dict[str, Any]) -> None:
    """What an administrator's PUT does (a new object or the current version)."""
    engine = create_engine(settings.effective_database_url)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        async with sessionmaker() as session, session.begin():
            defaults = default_config(settings)
            loaded = await service.load_config(session, defaults=defaults)
            await service.put_item(
                session,
                actor=SYSTEM,
                kind=kind,
                key=key,
                data=data,
                version=loaded.versions.get((kind, key), 0),
                defaults=defaults,
            )
    finally:
        await engine.dispose()


async def short_prompts(settings: Settings) -> None:
    for name, text in SHORT.items():
        await configure(settings, "prompt", name, {"text": text})


def conf(settings: Settings, **overrides: Any) -> Settings:
    return line_settings(
        settings,
        sip_agent_poll_seconds=0.2,
        sip_config_poll_seconds=0.2,
        sip_agent_ring_seconds=3.0,
        **overrides,
    )


@pytest.fixture
async def line_at_noon(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    """A line on the configuration in the database (no menu given in code), at noon."""
    s = conf(settings)
    await short_prompts(s)
    phone = PhoneLine(s, now=lambda: NOON)
    ua = await phone.start()
    yield Line(phone, ua.port)
    await phone.stop()


def sessionmaker_of(line: Line) -> Any:
    assert line.phone.engine is not None
    return make_sessionmaker(line.phone.engine, Site.from_settings(line.phone.settings))


async def test_key_4_reaches_a_registered_member_of_the_violations_desk(
    settings: Settings, line_at_noon: Line
):
    operator = await add_operator(settings)
    await asyncio.sleep(0.6)  # the line's poll reads the login and the queues it answers
    acd = line_at_noon.phone.acd
    assert acd is not None
    port = free_udp_port()
    code, out = await register(line_at_noon, port)
    assert code == 0, out
    assert [a.user_id for a in acd.free("violations")] == [operator]
    args = phone_args(line_at_noon, "operator_phone_answers.xml", port)
    phone = asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))
    await asyncio.sleep(0.5)  # the phone listens before the caller dials
    result = await line_at_noon.sipp("caller_to_operator.xml")
    assert result.returncode == 0, result.output
    code, out = await phone
    assert code == 0, out
    [call] = await line_at_noon.calls()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert (call.branch, call.menu_path, call.operator_id) == ("violations", "4", operator)


@pytest.mark.parametrize("why", ["closed", "nobody_on_duty"])
async def test_violations_desk_takes_a_message_that_becomes_a_case_when_nobody_can_answer(
    settings: Settings, line_at_noon: Line, why: str
):
    if why == "closed":  # open 08–11 only: at noon closed, an operator available or not
        await configure(
            line_at_noon.phone.settings,
            "queue",
            "violations",
            {
                "label": "Phản ánh vi phạm",
                "hours": ["08:00-11:00"],
                "members": {"roles": ["operator", "supervisor"]},
                "overflow": {"voicemail": True},
                "category": "phan_anh_vi_pham",
            },
        )
        await add_operator(settings)
    else:  # the built-in desk, open all day; its only operator is away
        await add_operator(settings, available=False)
    await asyncio.sleep(0.6)  # the line reloads the configuration and the operators
    result = await line_at_noon.sipp("caller_leaves_message.xml")
    assert result.returncode == 0, result.output
    [call] = await line_at_noon.calls()
    assert call.outcome is not None and call.outcome.value == "voicemail"
    assert (call.branch, call.menu_path, call.operator_id) == ("violations", "4", None)
    async with sessionmaker_of(line_at_noon)() as session:
        case = await session.scalar(select(Case).where(Case.id == call.case_id))
        recording = await session.scalar(
            select(CallRecording).where(CallRecording.call_id == call.id)
        )
    assert case is not None
    assert (case.category_code, case.channel.value, case.urgent) == (
        "phan_anh_vi_pham",
        "phone",
        False,
    )
    assert recording is not None and recording.seconds > 1.0


async def test_violations_desk_outside_its_hours_overflows_to_the_general_queue(
    settings: Settings, line_at_noon: Line
):
    await configure(
        line_at_noon.phone.settings,
        "queue",
        "violations",
        {
            "label": "Phản ánh vi phạm",
            "hours": ["08:00-11:00"],
            "members": {"roles": ["supervisor"]},
            "overflow": {"queue": "operator"},
        },
    )
    operator = await add_operator(settings)
    await asyncio.sleep(0.6)
    port = free_udp_port()
    code, out = await register(line_at_noon, port)
    assert code == 0, out
    args = phone_args(line_at_noon, "operator_phone_answers.xml", port)
    phone = asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))
    await asyncio.sleep(0.5)
    result = await line_at_noon.sipp("caller_to_operator.xml")
    assert result.returncode == 0, result.output
    code, out = await phone
    assert code == 0, out
    [call] = await line_at_noon.calls()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert (call.branch, call.menu_path, call.operator_id) == ("operator", "4", operator)


async def test_the_line_dials_a_promised_callback_when_a_member_is_free_and_bridges_them(
    settings: Settings, sipp_installed: None
):
    citizen_port = free_udp_port()
    s = conf(
        settings,
        sip_callback_uri=f"sip:{{number}}@127.0.0.1:{citizen_port}",
        sip_callback_ring_seconds=5.0,
    )
    await short_prompts(s)
    await configure(
        s,
        "queue",
        "violations",
        {
            "label": "Phản ánh vi phạm",
            "members": {"roles": ["operator"]},
            "callback_after": 0.5,
            "callback_attempts": 2,
            "callback_retry_after": 60,
        },
    )
    operator = await add_operator(s, available=False)  # nobody free: the caller waits
    phone = PhoneLine(s, now=lambda: NOON)
    ua = await phone.start()
    line = Line(phone, ua.port)
    try:
        await asyncio.sleep(0.6)
        op_port = free_udp_port()
        code, out = await register(line, op_port)
        assert code == 0, out
        result = await line.sipp("queue_callback_press_1.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
        assert call.outcome is not None and call.outcome.value == "callback_requested"
        # The citizen's phone and the operator's listen; then the operator becomes free.
        citizen = asyncio.create_task(
            run_sipp(
                [
                    *phone_args(line, "operator_phone_answers.xml", citizen_port),
                    *("-key", "opport", str(free_udp_port())),
                ]
            )
        )
        agent = asyncio.create_task(
            run_sipp(
                [
                    *phone_args(line, "operator_phone_hangs_up.xml", op_port),
                    *("-key", "opport", str(free_udp_port())),
                ]
            )
        )
        await asyncio.sleep(0.5)
        async with sessionmaker_of(line)() as session, session.begin():
            await on_duty(session, operator)
        code, out = await agent
        assert code == 0, out  # rung after the citizen answered; talked; hung up
        code, out = await citizen
        assert code == 0, out  # called by the line; the line hung up when the operator did
        for _ in range(50):
            async with sessionmaker_of(line)() as session:
                [callback] = (await session.scalars(select(Callback))).all()
                attempts = (await session.scalars(select(CallbackAttempt))).all()
            if attempts:
                break
            await asyncio.sleep(0.1)
        dialled = [c for c in await line.calls() if c.direction is CallDirection.OUTBOUND]
    finally:
        await phone.stop()
    assert (callback.status.value, callback.done_by, callback.attempts) == (
        "done",
        operator,
        1,
    )
    assert [(a.result.value, a.operator_id) for a in attempts] == [("connected", operator)]
    # The try's own call record: outbound, answered, linked from the attempt.
    assert [c.id for c in dialled] == [attempts[0].call_id]
    assert (dialled[0].outcome and dialled[0].outcome.value, dialled[0].operator_id) == (
        "answered",
        operator,
    )
    assert (dialled[0].caller, dialled[0].branch) == (call.caller, "violations")
