"""Branch 3 by the consult windows, against real peers: sipp doctors' phones that REGISTER and
answer, sipp callers pressing 3 inside a window (a consult doctor answers) and outside (the
next window is announced and a callback in it recorded for its doctors)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hotline.agents.service import set_sip_credentials, set_status
from hotline.auth.service import SYSTEM, actor_of, create_user, get_user
from hotline.calls.models import Callback
from hotline.care.consults import finish_consult, list_consults
from hotline.care.doctors import DoctorIn, save_doctor
from hotline.db import make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from tests.telephony.conftest import Line, free_udp_port, line_settings, start_line
from tests.telephony.test_acd import (
    PASSWORD,
    QUEUE_TEXTS,
    agent_row,
    phone_args,
    register,
    run_sipp,
)

pytestmark = pytest.mark.anyio
# Monday 23 November 2026 in Hà Nội (UTC+7): 10:00 is inside the 09–11 consult window,
# 12:00 between it and the 15–17 one.
TEN = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
NOON = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
FIFTEEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def clock() -> Clock:
    return Clock(TEN)


@pytest.fixture
async def consult_line(
    settings: Settings, sipp_installed: None, clock: Clock
) -> AsyncIterator[Line]:
    running = await start_line(
        line_settings(settings, sip_agent_poll_seconds=0.2, sip_agent_ring_seconds=2.0),
        texts=QUEUE_TEXTS,
        now=clock,
    )
    yield running
    await running.phone.stop()


async def add_doctor(line: Line, username: str, groups: tuple[str, ...]) -> int:
    """A doctor account with a SIP login, available, and its care profile (default windows)."""
    assert line.phone.engine is not None
    sessionmaker = make_sessionmaker(line.phone.engine, Site.from_settings(line.phone.settings))
    async with sessionmaker() as session, session.begin():
        user = await create_user(
            session, username=username, password="doctor-pass-1", role="doctor"
        )
        await set_sip_credentials(
            session,
            actor=SYSTEM,
            user_id=user.id,
            username=username,
            password=PASSWORD,
            realm=line.phone.settings.sip_realm,
        )
        await set_status(session, user_id=user.id, status="available")
        await save_doctor(
            session,
            actor=SYSTEM,
            user_id=user.id,
            data=DoctorIn(years_experience=8, groups=groups),
            create=True,
        )
        return user.id


async def test_pressing_3_at_10_rings_a_registered_consult_doctor_not_a_proactive_one(
    consult_line: Line,
):
    # The proactive doctor is idle the longest: were the queue the doctor role's, they
    # would be rung first.
    proactive = await add_doctor(consult_line, "bs_chamsoc", ("proactive",))
    await asyncio.sleep(0.05)
    consult = await add_doctor(consult_line, "bs_tuvan", ("consult",))
    await asyncio.sleep(0.6)  # the line's poll reads the windows and the logins
    ports = {"bs_chamsoc": free_udp_port(), "bs_tuvan": free_udp_port()}
    for user, port in ports.items():
        code, out = await register(consult_line, port, user=user)
        assert code == 0, out
    acd = consult_line.phone.acd
    assert acd is not None
    assert [a.user_id for a in acd.free("doctor")] == [consult]
    args = phone_args(
        consult_line, "operator_phone_answers.xml", ports["bs_tuvan"], user="bs_tuvan"
    )
    phone = asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))
    await asyncio.sleep(0.5)  # the phone listens before the caller dials
    result = await consult_line.sipp("caller_to_doctor.xml")
    assert result.returncode == 0, result.output
    code, out = await phone
    assert code == 0, out
    [call] = await consult_line.calls()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert (call.branch, call.menu_path, call.operator_id) == ("doctor", "3", consult)
    assert (await agent_row(consult_line, proactive)).missed == 0  # never rung


async def test_pressing_3_at_noon_is_offered_a_callback_in_the_15_00_window(
    consult_line: Line, clock: Clock
):
    clock.at = NOON
    await add_doctor(consult_line, "bs_chamsoc", ("proactive",))
    consult = await add_doctor(consult_line, "bs_tuvan", ("consult",))
    await asyncio.sleep(0.6)
    # The announcement of the next window is made ahead of the call, as the poll does.
    await consult_line.phone.consult.warm(clock())
    result = await consult_line.sipp("consult_callback_press_1.xml")
    assert result.returncode == 0, result.output
    [call] = await consult_line.calls()
    assert call.outcome is not None and call.outcome.value == "callback_requested"
    assert (call.branch, call.menu_path, call.answered_at) == ("doctor", "3", None)
    assert consult_line.phone.engine is not None
    sessionmaker = make_sessionmaker(
        consult_line.phone.engine, Site.from_settings(consult_line.phone.settings)
    )
    async with sessionmaker() as session, session.begin():
        [callback] = (await session.scalars(select(Callback))).all()
        assert callback.call_id == call.id and callback.due_at == FIFTEEN
        doctor = actor_of(await get_user(session, consult))
        [view] = await list_consults(session, actor=doctor, status="open")
        seen = view.as_json()
        assert (seen["source"], seen["phone"], seen["callback_id"]) == (
            "phone",
            "+84912345678",
            callback.id,
        )
        assert seen["due_at"] == FIFTEEN.isoformat() and seen["doctor_ids"] == [consult]
        # Called back: the consult done closes the callback as well.
        await finish_consult(session, actor=doctor, consult_id=view.request.id)
    async with sessionmaker() as session:
        [callback] = (await session.scalars(select(Callback))).all()
        assert callback.status.value == "done" and callback.done_by == consult
