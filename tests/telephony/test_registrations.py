"""Operators' registrations outlive the line process: kept in the database, honoured until
they expire, shared with another instance on the same database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.agents.models import SipRegistration
from hotline.agents.registrations import save_registration
from hotline.db import create_engine, make_sessionmaker, utcnow
from hotline.settings import Settings
from hotline.site import Site
from tests.telephony.conftest import Line, free_udp_port, line_settings, start_line
from tests.telephony.test_acd import (
    PASSWORD,
    QUEUE_TEXTS,
    add_operator,
    agent_row,
    phone_args,
    run_sipp,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def conf(settings: Settings, sipp_installed: None) -> Settings:
    return line_settings(settings, sip_agent_poll_seconds=0.2)


async def register_for(line: Line, port: int, seconds: int) -> None:
    args = phone_args(line, "register_operator_expires.xml", port, "-au", "op1", "-ap", PASSWORD)
    code, out = await run_sipp([*args, "-key", "expires", str(seconds)])
    assert code == 0, out


async def stored(line: Line) -> list[SipRegistration]:
    assert line.phone.engine is not None
    sessionmaker = make_sessionmaker(line.phone.engine, Site.from_settings(line.phone.settings))
    async with sessionmaker() as session:
        return list((await session.scalars(select(SipRegistration))).all())


async def test_operator_registered_before_a_restart_is_rung_without_registering_again(
    conf: Settings,
):
    user_id = await add_operator(conf)
    first = await start_line(conf, texts=QUEUE_TEXTS)
    phone_port = free_udp_port()
    try:
        await asyncio.sleep(0.5)  # the poll has the operator's credentials
        await register_for(first, phone_port, 300)
    finally:
        await first.phone.stop()  # the registration's write is finished by then
    line = await start_line(conf, texts=QUEUE_TEXTS)  # a new process: nothing in memory
    try:
        [row] = await stored(line)
        assert (row.username, row.received_host, row.received_port) == (
            "op1",
            "127.0.0.1",
            phone_port,
        )
        assert row.contact == f"sip:op1@127.0.0.1:{phone_port}"
        args = phone_args(line, "operator_phone_answers.xml", phone_port)
        phone = asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))
        await asyncio.sleep(0.5)
        result = await line.sipp("caller_to_operator.xml")
        assert result.returncode == 0, result.output
        code, out = await phone
        assert code == 0, out
        [call] = await line.calls()
    finally:
        await line.phone.stop()
    assert call.outcome is not None and call.outcome.value == "answered"
    assert call.operator_id == user_id


async def test_an_expired_registration_is_not_used_after_a_restart(conf: Settings):
    user_id = await add_operator(conf)
    first = await start_line(conf, texts=QUEUE_TEXTS)
    try:
        await asyncio.sleep(0.5)
        await register_for(first, free_udp_port(), 1)
    finally:
        await first.phone.stop()
    await asyncio.sleep(1.5)  # the registration has expired
    line = await start_line(conf, texts=QUEUE_TEXTS)
    try:
        ua = line.phone.ua
        assert ua is not None and ua.registrar.lookup("op1") is None
        result = await line.sipp("caller_waits_then_hangs_up.xml", extra=("-d", "1500"))
        assert result.returncode == 0, result.output
        [call] = await line.calls()
        agent = await agent_row(line, user_id)
    finally:
        await line.phone.stop()
    assert call.outcome is not None and call.outcome.value == "abandoned_queue"
    assert agent.missed == 0  # the phone was never rung


async def test_expired_registrations_are_deleted_when_the_line_starts(conf: Settings):
    await add_operator(conf)
    first = await start_line(conf, texts=QUEUE_TEXTS)
    try:
        await asyncio.sleep(0.5)
        await register_for(first, free_udp_port(), 1)  # op1: expires in a second
    finally:
        await first.phone.stop()
    await asyncio.sleep(1.5)
    # Another phone's binding, still live, written as a line would.
    engine = create_engine(conf.effective_database_url)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(conf))
        async with sessionmaker() as session, session.begin():
            assert [r.username for r in (await session.scalars(select(SipRegistration)))] == ["op1"]
            await save_registration(
                session,
                username="op2",
                contact="sip:op2@127.0.0.1:5999",
                received=("127.0.0.1", 5999),
                expires_at=utcnow() + timedelta(minutes=10),
                instance=None,
            )
    finally:
        await engine.dispose()
    line = await start_line(conf, texts=QUEUE_TEXTS)
    try:
        rows = await stored(line)
    finally:
        await line.phone.stop()
    assert [r.username for r in rows] == ["op2"]  # op1's expired row is gone


async def test_a_second_instance_rings_a_phone_registered_at_the_first(conf: Settings):
    await add_operator(conf)
    first = await start_line(conf, texts=QUEUE_TEXTS)
    second = await start_line(conf.model_copy(update={"sip_instance": "second"}))
    try:
        await asyncio.sleep(0.5)
        phone_port = free_udp_port()
        await register_for(first, phone_port, 300)
        ua = second.phone.ua
        assert ua is not None
        for _ in range(50):  # the second instance's poll brings it in
            if ua.registrar.lookup("op1") is not None:
                break
            await asyncio.sleep(0.1)
        binding = ua.registrar.lookup("op1")
        assert binding is not None and binding.source == ("127.0.0.1", phone_port)
        # Unregistered at the first: gone from the second too.
        unregister = phone_args(first, "unregister_operator.xml", free_udp_port(), "-ap", PASSWORD)
        code, out = await run_sipp(unregister)
        assert code == 0, out
        for _ in range(50):
            if ua.registrar.lookup("op1") is None:
                break
            await asyncio.sleep(0.1)
        assert ua.registrar.lookup("op1") is None
    finally:
        await second.phone.stop()
        await first.phone.stop()
