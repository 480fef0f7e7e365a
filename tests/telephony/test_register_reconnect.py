"""A phone that comes back on a new port (a new TCP/TLS connection, a NAT's new mapping)
while a guesser keeps its user locked out: recognised by its host and its registrations'
Call-ID and let in; a guesser at the same host, without that Call-ID, is still refused."""

from __future__ import annotations

import asyncio

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.digest import Binding, Registrar
from tests.telephony.conftest import Line
from tests.telephony.test_acd import PASSWORD, add_operator
from tests.telephony.test_door_guard import Peer, guarded, register
from tests.telephony.test_register_path import CONTACT, EDGE, start, through_edge

pytestmark = pytest.mark.anyio
__all__ = ["guarded"]  # the fixture, from the door's tests
PHONE_CALL_ID = "phone-op1-boot-1@192.0.2.10"


async def lock_out_op1(line: Line, guesses: int, host: str = "127.0.0.2") -> None:
    for _ in range(guesses):
        assert await register(line, "op1", "guess-123", host=host) == 403
    assert await register(line, "op1", PASSWORD, host=host) == 403  # locked out


async def test_the_phone_back_on_a_new_port_is_let_in_while_its_user_is_locked(guarded: Line):
    first = Peer(guarded.port)
    try:
        status = await asyncio.to_thread(first.register, "op1", PASSWORD, call_id=PHONE_CALL_ID)
        assert status == 200
    finally:
        first.close()
    await lock_out_op1(guarded, 3)
    again = Peer(guarded.port)  # the same host, a new ephemeral port
    try:
        status = await asyncio.to_thread(again.register, "op1", PASSWORD, call_id=PHONE_CALL_ID)
    finally:
        again.close()
    assert status == 200
    ua = guarded.phone.ua
    assert ua is not None
    binding = ua.registrar.lookup("op1")
    assert binding is not None and binding.source == (again.host, again.port)


async def test_a_guesser_at_the_phones_host_is_still_locked_out(guarded: Line):
    """Behind one NAT address (an office, a carrier's CGNAT) the host alone is no proof:
    without the phone's Call-ID even the right password is refused while locked."""
    phone = Peer(guarded.port)
    try:
        status = await asyncio.to_thread(phone.register, "op1", PASSWORD, call_id=PHONE_CALL_ID)
        assert status == 200
        await lock_out_op1(guarded, 3)
        # The same host, another port and Call-ID: a guesser sharing the phone's address.
        assert await register(guarded, "op1", PASSWORD) == 403
        # The phone's Call-ID from another host: not the phone either.
        other = Peer(guarded.port, host="127.0.0.3")
        try:
            status = await asyncio.to_thread(other.register, "op1", PASSWORD, call_id=PHONE_CALL_ID)
        finally:
            other.close()
        assert status == 403
    finally:
        phone.close()


async def test_a_phone_behind_the_edge_reconnecting_is_let_in_while_locked(
    settings: Settings,
):
    """Over TLS the edge's Path names the phone's connection (`received`, with its port):
    a new connection changes it, and the line still knows the phone."""
    await add_operator(settings, available=False)
    line = await start(settings)
    edge = Peer(line.port, host=EDGE)
    try:
        extra = through_edge(edge, "203.0.113.7")
        status = await asyncio.to_thread(
            edge.register, "op1", PASSWORD, extra, CONTACT, PHONE_CALL_ID
        )
        assert status == 200
        # A guesser at home, through the same edge, locks op1 out (3 per address here).
        for _ in range(3):
            guess = through_edge(edge, "198.51.100.66")
            assert await asyncio.to_thread(edge.register, "op1", "guess", guess) == 403
        for n in range(2):  # and op1's own count, from other homes
            guess = through_edge(edge, f"198.51.100.{70 + n}")
            assert await asyncio.to_thread(edge.register, "op1", "guess", guess) == 403
        stranger = through_edge(edge, "198.51.100.80")
        assert await asyncio.to_thread(edge.register, "op1", PASSWORD, stranger) == 403
        back = through_edge(edge, "203.0.113.7", received_port=40002)
        status = await asyncio.to_thread(
            edge.register, "op1", PASSWORD, back, CONTACT, PHONE_CALL_ID
        )
        ua = line.phone.ua
        assert ua is not None
        binding = ua.registrar.lookup("op1")
    finally:
        edge.close()
        await line.phone.stop()
    assert status == 200
    assert binding is not None and "203.0.113.7:40002" in binding.path[0]


def test_the_phone_stays_known_when_the_databases_copy_is_merged_in():
    """The database's copy has no Call-ID: a poll taking it in must not forget who
    registered a binding it left as it was, or the phone would no longer be recognised."""
    now = [0.0]
    registrar = Registrar(clock=lambda: now[0])
    registrar.bind(
        "op1",
        "sip:op1@192.0.2.10",
        ("192.0.2.10", 5062),
        600,
        origin="192.0.2.10",
        call_id=PHONE_CALL_ID,
    )
    registrar.bind(
        "op2",
        "sip:op2@192.0.2.11",
        ("192.0.2.11", 5062),
        600,
        origin="192.0.2.11",
        call_id="phone-op2",
    )
    now[0] = 100.0
    stored = {
        "op1": Binding("sip:op1@192.0.2.10", ("192.0.2.10", 5062), 700.0),
        # op2 registered again at another instance, from elsewhere: that phone is not known.
        "op2": Binding("sip:op2@198.51.100.2", ("198.51.100.2", 5062), 700.0),
    }
    registrar.merge(stored, read_at=now[0], settle=10.0)
    op1, op2 = registrar.lookup("op1"), registrar.lookup("op2")
    assert op1 is not None and (op1.origin, op1.call_id) == ("192.0.2.10", PHONE_CALL_ID)
    assert op2 is not None and (op2.origin, op2.call_id) == ("", "")
