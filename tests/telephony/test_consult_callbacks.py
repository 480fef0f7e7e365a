"""The line dials consult callbacks itself, against real peers: a caller presses 3 at 12:00
(no consult window) and asks to be called back in the 15:00 window; at 15:00, with the
window's doctor registered (a sipp phone) and free, the line calls the citizen (a sipp UAS at
`HOTLINE_SIP_CALLBACK_URI`), rings the doctor and bridges them, and the consult request is
done by that doctor. Before 15:00 nothing is dialled, even with the doctor free; a request the
doctor took by hand is not dialled; a try nobody answers leaves the request open, and so do a
line that stops during a try and one that crashed (released when a line starts)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from hotline.auth.service import SYSTEM, actor_of, get_user
from hotline.calls.models import Call, Callback, CallbackAttempt, CallDirection
from hotline.care.consult_dialling import claim_consult_callback, due_consult_callbacks
from hotline.care.consults import take_consult
from hotline.care.doctors import DoctorIn, WindowIn, save_doctor
from hotline.care.models import ConsultRequest
from hotline.db import make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from tests.telephony.conftest import Line, free_udp_port, line_settings, start_line
from tests.telephony.test_acd import QUEUE_TEXTS, phone_args, register, run_sipp
from tests.telephony.test_consult_routing import FIFTEEN, NOON, Clock, add_doctor

pytestmark = pytest.mark.anyio
HALF_PAST_TWO = FIFTEEN.replace(hour=7, minute=30)  # 14:30 in Hà Nội


@pytest.fixture
async def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
async def citizen_port() -> int:
    return free_udp_port()


@pytest.fixture
async def dialling_line(
    settings: Settings, sipp_installed: None, clock: Clock, citizen_port: int
) -> AsyncIterator[Line]:
    running = await start_line(
        line_settings(
            settings,
            sip_agent_poll_seconds=0.2,
            sip_agent_ring_seconds=3.0,
            sip_callback_uri=f"sip:{{number}}@127.0.0.1:{citizen_port}",
            sip_callback_ring_seconds=5.0,
        ),
        texts=QUEUE_TEXTS,
        now=clock,
    )
    yield running
    await running.phone.stop()


def sessionmaker_of(line: Line) -> Any:
    assert line.phone.engine is not None
    return make_sessionmaker(line.phone.engine, Site.from_settings(line.phone.settings))


async def callback_asked_at_noon(line: Line) -> int:
    """A consult doctor (default windows: the next is 15:00) and a caller of branch 3 at
    12:00 who asks to be called back; the doctor's phone registered. The doctor's id."""
    doctor = await add_doctor(line, "bs_tuvan", ("consult",))
    await asyncio.sleep(0.6)  # the poll reads the windows
    await line.phone.consult.warm(NOON)
    result = await line.sipp("consult_callback_press_1.xml")
    assert result.returncode == 0, result.output
    return doctor


async def free_doctors(line: Line) -> list[int]:
    """The doctors free in the doctor queue once the poll has read the clock's windows."""
    acd = line.phone.acd
    assert acd is not None
    for _ in range(30):
        found = [a.user_id for a in acd.free("doctor")]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def state(line: Line) -> tuple[Callback, ConsultRequest, list[CallbackAttempt]]:
    """The callback, its consult request and its tries (the tries read first: the rows a
    try writes are committed together)."""
    async with sessionmaker_of(line)() as session:
        attempts = (await session.scalars(select(CallbackAttempt))).all()
        [callback] = (await session.scalars(select(Callback))).all()
        [request] = (await session.scalars(select(ConsultRequest))).all()
        return callback, request, list(attempts)


async def outbound_calls(line: Line) -> list[Call]:
    """The calls the line placed (each written with its try, so present once it is)."""
    return [c for c in await line.calls() if c.direction is CallDirection.OUTBOUND]


async def test_at_15_00_the_line_calls_the_citizen_and_bridges_the_free_consult_doctor(
    dialling_line: Line, clock: Clock, citizen_port: int
):
    doctor = await callback_asked_at_noon(dialling_line)
    doctor_port = free_udp_port()
    code, out = await register(dialling_line, doctor_port, user="bs_tuvan")
    assert code == 0, out
    citizen = asyncio.create_task(
        run_sipp(
            [
                *phone_args(dialling_line, "operator_phone_answers.xml", citizen_port),
                *("-key", "opport", str(free_udp_port())),
            ]
        )
    )
    phone = asyncio.create_task(
        run_sipp(
            [
                *phone_args(
                    dialling_line, "operator_phone_hangs_up.xml", doctor_port, user="bs_tuvan"
                ),
                *("-key", "opport", str(free_udp_port())),
            ]
        )
    )
    await asyncio.sleep(0.5)  # both phones listen before the window starts
    clock.at = FIFTEEN
    code, out = await phone
    assert code == 0, out  # rung after the citizen answered; talked; hung up
    code, out = await citizen
    assert code == 0, out  # called by the line; hung up when the doctor did
    for _ in range(50):
        callback, request, attempts = await state(dialling_line)
        if attempts:
            break
        await asyncio.sleep(0.1)
    assert (request.status.value, request.taken_by_id, request.done_by_id) == (
        "done",
        doctor,
        doctor,
    )
    assert (callback.status.value, callback.done_by, callback.attempts) == ("done", doctor, 1)
    assert [(a.result.value, a.operator_id) for a in attempts] == [("connected", doctor)]
    # The try is an outbound call record of its own, linked from the attempt.
    dialled = await outbound_calls(dialling_line)
    assert [c.id for c in dialled] == [attempts[0].call_id]
    [call] = dialled
    assert (call.outcome and call.outcome.value, call.operator_id, call.branch) == (
        "answered",
        doctor,
        "doctor",
    )
    assert call.caller == callback.caller and call.line == callback.line
    assert call.answered_at is not None and call.ended_at is not None
    assert call.started_at <= call.answered_at <= call.ended_at
    assert (call.sip_status, call.codec, call.ended_by, call.release_cause) == (
        200,
        "PCMA",  # what the citizen's phone (operator_phone_answers.xml) answered with
        "operator",
        "operator_hangup",
    )
    assert call.sip_call_id and re.fullmatch("[0-9a-f]{24}", call.sip_call_id)


async def test_before_the_window_starts_nothing_is_dialled_nor_once_taken_by_hand(
    dialling_line: Line, clock: Clock
):
    doctor = await callback_asked_at_noon(dialling_line)
    code, out = await register(dialling_line, free_udp_port(), user="bs_tuvan")
    assert code == 0, out
    # The doctor now works from 14:00: free in the doctor queue at 14:30, while the request
    # stays due in the 15:00 window it was promised in.
    async with sessionmaker_of(dialling_line)() as session, session.begin():
        await save_doctor(
            session,
            actor=SYSTEM,
            user_id=doctor,
            data=DoctorIn(
                years_experience=8,
                groups=("consult",),
                availability=(WindowIn(group="consult", start="14:00", end="17:00"),),
            ),
            create=False,
        )
    clock.at = HALF_PAST_TWO
    assert await free_doctors(dialling_line) == [doctor]
    dialer = dialling_line.phone.dialer
    assert dialer is not None
    await dialer.tick()  # what the poll does; any claim is made before it returns
    callback, request, attempts = await state(dialling_line)
    assert (callback.attempts, request.status.value, attempts) == (0, "open", [])
    # At 15:00 the doctor has taken it to call back by hand: the line leaves it to them.
    clock.at = FIFTEEN
    async with sessionmaker_of(dialling_line)() as session, session.begin():
        actor = actor_of(await get_user(session, doctor))
        await take_consult(session, actor=actor, consult_id=request.id)
    await dialer.tick()
    callback, request, attempts = await state(dialling_line)
    assert (callback.attempts, request.status.value, request.taken_by_id, attempts) == (
        0,
        "taken",
        doctor,
        [],
    )


async def test_a_try_nobody_answers_leaves_the_request_open_for_the_next_try_or_a_doctor(
    dialling_line: Line, clock: Clock
):
    doctor = await callback_asked_at_noon(dialling_line)
    code, out = await register(dialling_line, free_udp_port(), user="bs_tuvan")
    assert code == 0, out
    clock.at = FIFTEEN  # the citizen's phone does not answer (nothing listens there)
    for _ in range(100):
        callback, request, attempts = await state(dialling_line)
        if attempts:
            break
        await asyncio.sleep(0.1)
    assert [(a.result.value, a.operator_id) for a in attempts] == [("no_answer", None)]
    assert (request.status.value, request.taken_by_id, request.done_by_id) == ("open", None, None)
    [call] = await outbound_calls(dialling_line)
    assert attempts[0].call_id == call.id
    assert (call.outcome and call.outcome.value, call.answered_at, call.talk_seconds) == (
        "no_answer",
        None,
        0,
    )
    assert (call.operator_id, call.sip_status, call.ended_by, call.release_cause) == (
        None,
        None,
        "line",
        "no_answer",
    )
    assert (callback.status.value, callback.attempts) == ("open", 1)
    assert callback.next_attempt_at is not None and callback.next_attempt_at > attempts[0].ended_at
    # Open again: the doctor may take it and call back by hand.
    async with sessionmaker_of(dialling_line)() as session, session.begin():
        actor = actor_of(await get_user(session, doctor))
        view = await take_consult(session, actor=actor, consult_id=request.id)
        assert view.request.taken_by_id == doctor


async def test_a_line_that_stops_during_a_try_leaves_the_request_open(
    dialling_line: Line, clock: Clock
):
    await callback_asked_at_noon(dialling_line)
    code, out = await register(dialling_line, free_udp_port(), user="bs_tuvan")
    assert code == 0, out
    clock.at = FIFTEEN  # the line dials the citizen, whose phone rings unanswered
    for _ in range(100):
        _, request, attempts = await state(dialling_line)
        if request.status.value == "taken":
            break
        await asyncio.sleep(0.05)
    assert request.status.value == "taken" and request.dialling_until is not None
    assert attempts == []
    dialer = dialling_line.phone.dialer
    assert dialer is not None
    await dialer.stop()  # what the line's stop() does first
    _, request, attempts = await state(dialling_line)
    assert (request.status.value, request.taken_by_id, request.dialling_until) == (
        "open",
        None,
        None,
    )


async def test_requests_a_crashed_line_held_are_released_at_start_up(
    dialling_line: Line, clock: Clock
):
    doctor = await callback_asked_at_noon(dialling_line)
    # Another line claimed the try at 12:00 and died before writing its result.
    found = []
    for _ in range(50):  # the line writes the request as the caller hangs up
        async with sessionmaker_of(dialling_line)() as session:
            found = await due_consult_callbacks(session, now=FIFTEEN)
        if found:
            break
        await asyncio.sleep(0.1)
    [due] = found
    async with sessionmaker_of(dialling_line)() as session, session.begin():
        assert await claim_consult_callback(session, due=due, doctor_id=doctor, now=NOON, hold=60.0)
    _, request, _ = await state(dialling_line)
    assert request.status.value == "taken"
    dialer = dialling_line.phone.dialer
    assert dialer is not None
    await dialer.start()  # within the hold: it may still be dialling
    _, request, _ = await state(dialling_line)
    assert request.status.value == "taken"
    clock.at = NOON.replace(minute=10)
    await dialer.start()  # what a line does when it starts
    _, request, _ = await state(dialling_line)
    assert (request.status.value, request.taken_by_id, request.dialling_until) == (
        "open",
        None,
        None,
    )
    # A request a doctor took by hand is never released by the line.
    async with sessionmaker_of(dialling_line)() as session, session.begin():
        actor = actor_of(await get_user(session, doctor))
        await take_consult(session, actor=actor, consult_id=request.id)
    clock.at = FIFTEEN.replace(hour=9)
    await dialer.start()
    _, request, _ = await state(dialling_line)
    assert (request.status.value, request.taken_by_id) == ("taken", doctor)


async def test_a_busy_citizen_phone_is_recorded_as_a_busy_outbound_call(
    dialling_line: Line, clock: Clock, citizen_port: int
):
    await callback_asked_at_noon(dialling_line)
    code, out = await register(dialling_line, free_udp_port(), user="bs_tuvan")
    assert code == 0, out
    citizen = asyncio.create_task(
        run_sipp(phone_args(dialling_line, "operator_phone_busy.xml", citizen_port))
    )
    await asyncio.sleep(0.5)
    clock.at = FIFTEEN
    code, out = await citizen
    assert code == 0, out  # the line's INVITE got 486 and ACKed it
    for _ in range(50):
        callback, request, attempts = await state(dialling_line)
        if attempts:
            break
        await asyncio.sleep(0.1)
    assert [(a.result.value, a.operator_id) for a in attempts] == [("no_answer", None)]
    assert request.status.value == "open"
    [call] = await outbound_calls(dialling_line)
    assert attempts[0].call_id == call.id
    assert (call.outcome and call.outcome.value, call.sip_status, call.release_cause) == (
        "busy",
        486,
        "busy",
    )
    assert (call.caller, call.answered_at, call.operator_id) == (callback.caller, None, None)
