"""The operator queue rings only people at work: with nobody rostered, an operator whose
status says available but who never clocked in is not rung, and the caller goes the
queue's way for a line nobody answers (here its callback offer); once a supervisor's leave
lets them clock in, the line's next poll offers them calls."""

from __future__ import annotations

import asyncio

import pytest

from hotline.agents.service import set_status
from hotline.db import create_engine, make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from tests.telephony.conftest import free_udp_port, line_settings, on_duty, start_line
from tests.telephony.test_acd import QUEUE_TEXTS, add_operator, register

pytestmark = pytest.mark.anyio


async def test_an_operator_not_clocked_in_is_not_rung_when_nobody_is_rostered(
    settings: Settings, sipp_installed: None
) -> None:
    line = await start_line(
        line_settings(settings, sip_callback_after=0.5, sip_agent_poll_seconds=0.2),
        texts=QUEUE_TEXTS,
    )
    try:
        user_id = await add_operator(settings, available=False)
        engine = create_engine(settings.effective_database_url, pool_size=2)
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        try:
            # Available on the board (a status left from before), never clocked in.
            async with sessionmaker() as session, session.begin():
                await set_status(session, user_id=user_id, status="available")
            await asyncio.sleep(0.5)  # the line's poll reads the phone's SIP login
            code, out = await register(line, free_udp_port())
            assert code == 0, out
            await asyncio.sleep(0.6)  # a few polls of the line
            acd = line.phone.acd
            assert acd is not None
            assert [a.user_id for a in acd.free("operator")] == []
            result = await line.sipp("queue_callback_press_1.xml")
            assert result.returncode == 0, result.output
            [call] = await line.calls()
            assert call.outcome is not None and call.outcome.value == "callback_requested"
            assert call.operator_id is None and acd.misses.get(user_id, 0) == 0

            # Let in by a supervisor and clocked in: the queue offers them calls.
            async with sessionmaker() as session, session.begin():
                await on_duty(session, user_id)
            await asyncio.sleep(0.6)
            assert [a.user_id for a in acd.free("operator")] == [user_id]
        finally:
            await engine.dispose()
    finally:
        await line.phone.stop()
