"""A phone line that starts again closes the answered calls it left open (a crash) and
releases the operators still shown on them; calls of other instances sharing the database
are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.agents.models import Agent, AgentStatus
from hotline.auth.service import create_user
from hotline.calls.models import Call, CallOutcome
from hotline.calls.service import NewCall, open_call
from hotline.db import create_engine, make_sessionmaker, utcnow
from hotline.settings import Settings
from hotline.site import Site
from tests.conftest import PASSWORD
from tests.telephony.conftest import line_settings, start_line

pytestmark = pytest.mark.anyio


async def _operator_on_open_call(sessionmaker, username: str, instance: str) -> tuple[int, int]:
    async with sessionmaker() as session, session.begin():
        user = await create_user(session, username=username, password=PASSWORD, role="operator")
        started = utcnow() - timedelta(minutes=3)
        call = await open_call(
            session,
            data=NewCall(
                line="1022",
                caller="0912345678",
                started_at=started,
                answered_at=started + timedelta(seconds=20),
                branch="operator",
                operator_id=user.id,
                outcome=CallOutcome.ANSWERED.value,
                instance=instance,
            ),
        )
        session.add(
            Agent(user_id=user.id, status=AgentStatus.BUSY, current_call_id=call.id, missed=0)
        )
    return user.id, call.id


async def test_start_closes_this_instances_open_calls_and_releases_their_operators(
    settings: Settings,
):
    engine = create_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
    mine_user, mine_call = await _operator_on_open_call(sessionmaker, "op_a", "line-a")
    other_user, other_call = await _operator_on_open_call(sessionmaker, "op_b", "line-b")

    line = await start_line(line_settings(settings, sip_instance="line-a"))
    try:
        async with sessionmaker() as session:
            call = await session.get(Call, mine_call)
            agent = await session.get(Agent, mine_user)
            assert call is not None and agent is not None
            assert call.ended_at is not None
            assert call.outcome is CallOutcome.LINE_RESTARTED
            assert agent.current_call_id is None
            assert agent.status is AgentStatus.AVAILABLE
            # Another instance's call in progress is not this line's to close.
            other = await session.get(Call, other_call)
            other_agent = await session.get(Agent, other_user)
            assert other is not None and other_agent is not None
            assert other.ended_at is None and other.outcome is CallOutcome.ANSWERED
            assert other_agent.current_call_id == other_call
            assert other_agent.status is AgentStatus.BUSY
    finally:
        await line.phone.stop()
        await engine.dispose()


async def test_the_default_instance_is_the_host_and_sip_port(settings: Settings):
    import socket

    s = settings.model_copy(update={"sip_port": 5081, "sip_instance": ""})
    assert s.sip_instance_id == f"{socket.gethostname()}:5081"
    with pytest.raises(ValueError):
        Settings(sip_instance="x" * 65)
