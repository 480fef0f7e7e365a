"""Phones registered through the edge (deploy/edge): the line keeps the edge's Path (RFC 3327)
only from the edge, counts lockouts by the phone's own address the edge names, keeps the Path
in the database, and rings the phone through it: to the Path's first hop, with the Path as the
INVITE's Route and the phone's Contact as its Request-URI. Here a plain UDP socket on the
edge's address plays the edge; tests/edge runs the real one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from hotline.settings import Settings
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_acd import PASSWORD, QUEUE_TEXTS, add_operator
from tests.telephony.test_baresip import Caller, poll
from tests.telephony.test_door_guard import Peer, register
from tests.telephony.test_registrations import stored

pytestmark = pytest.mark.anyio
EDGE = "127.0.0.5"
# A phone at home behind NAT: its Contact is a private address the line cannot reach.
CONTACT = "sip:op1@192.168.1.20:5062;transport=tls"


def path_of(edge: Peer, received_port: int = 40001, phone: str = "203.0.113.7") -> str:
    """The edge's Path for a phone's connection (add_path_received: its address and port)."""
    received = f"sip:{phone}:{received_port}%3Btransport%3Dtls"
    return f"<sip:{EDGE}:{edge.port};lr;received={received}>"


def through_edge(
    edge: Peer, phone_address: str, *, received_port: int = 40001, supported: bool = True
) -> str:
    """What the edge relays of a phone's REGISTER: its Path, the phone's own address and,
    from a phone that supports Path (RFC 3327), `Supported: path`."""
    head = "Supported: path\r\n" if supported else ""
    path = path_of(edge, received_port, phone_address)
    return f"{head}Path: {path}\r\nX-Hotline-Source: {phone_address}\r\n"


async def start(settings: Settings, **overrides: object) -> Line:
    values: dict[str, object] = {
        "sip_agent_poll_seconds": 0.2,
        "sip_edge_networks": [f"{EDGE}/32"],
        "sip_register_max_failures_per_address": 3,
        "sip_register_lockout_seconds": 30.0,
    }
    line = await start_line(line_settings(settings, **values | overrides), texts=QUEUE_TEXTS)
    ua = line.phone.ua
    assert ua is not None
    await poll(lambda: "op1" in ua.credentials, 5, "the line's poll loads op1's SIP login")
    return line


@pytest.fixture
async def line(settings: Settings) -> AsyncIterator[Line]:
    await add_operator(settings, available=False)
    running = await start(settings)
    yield running
    await running.phone.stop()


async def test_the_edges_path_is_kept_and_echoed(line: Line):
    edge = Peer(line.port, host=EDGE)
    try:
        ok = await asyncio.to_thread(
            edge.register_answer, "op1", PASSWORD, through_edge(edge, "203.0.113.7"), CONTACT
        )
    finally:
        edge.close()
    assert ok.status == 200
    assert ok.get_all("path") == [path_of(edge)]
    ua = line.phone.ua
    assert ua is not None
    binding = ua.registrar.lookup("op1")
    assert binding is not None and binding.path == (path_of(edge),)
    assert binding.contact == CONTACT


async def test_a_path_for_a_phone_that_does_not_support_it_is_kept_not_echoed(line: Line):
    """The edge's Path is stored for every phone (the line reaches it only through the edge)
    but echoed only to a phone listing `path` in Supported (RFC 3327 §5.3); a phone that
    does not list it is registered, not refused."""
    edge = Peer(line.port, host=EDGE)
    try:
        extra = through_edge(edge, "203.0.113.7", supported=False)
        plain = await asyncio.to_thread(edge.register_answer, "op1", PASSWORD, extra, CONTACT)
        ua = line.phone.ua
        assert ua is not None
        binding = ua.registrar.lookup("op1")
        # Listed among others, in the compact form: stored and echoed.
        listed = "k: replaces, PATH\r\n" + through_edge(edge, "203.0.113.7", supported=False)
        ok = await asyncio.to_thread(edge.register_answer, "op1", PASSWORD, listed, CONTACT)
    finally:
        edge.close()
    assert plain.status == 200 and plain.get_all("path") == []
    assert binding is not None and binding.path == (path_of(edge),)
    assert ok.status == 200 and ok.get_all("path") == [path_of(edge)]


async def test_a_path_from_anyone_but_the_edge_is_ignored(line: Line):
    """Else a phone could make the line send its calls (and their media offers) anywhere."""
    phone = Peer(line.port, host="127.0.0.1")
    try:
        extra = "Path: <sip:198.51.100.9:5060;lr>\r\n"
        ok = await asyncio.to_thread(phone.register_answer, "op1", PASSWORD, extra)
    finally:
        phone.close()
    assert ok.status == 200 and ok.get_all("path") == []
    ua = line.phone.ua
    assert ua is not None
    binding = ua.registrar.lookup("op1")
    assert binding is not None and binding.path == ()


async def test_lockouts_behind_the_edge_count_the_phones_own_address(line: Line):
    """Every phone behind the edge reaches the line from the edge's address: a guesser at
    home must lock out their own address, not the edge and every operator with it."""
    guesser = Peer(line.port, host=EDGE)
    try:
        for n in range(3):
            extra = through_edge(guesser, "198.51.100.66")
            status = await asyncio.to_thread(guesser.register, f"ghost{n}", "guess", extra)
            assert status == 403
        # The guesser's address is locked out, even with the right password...
        locked = through_edge(guesser, "198.51.100.66")
        assert await asyncio.to_thread(guesser.register, "op1", PASSWORD, locked) == 403
        # ... and an operator at another address, through the same edge, is not.
        other = through_edge(guesser, "203.0.113.7")
        assert await asyncio.to_thread(guesser.register, "op1", PASSWORD, other, CONTACT) == 200
    finally:
        guesser.close()
    # Without the edge, the address counted is the sender's own, as before.
    assert await register(line, "op1", PASSWORD, host="127.0.0.3") == 200


async def test_a_phone_behind_the_edge_is_rung_through_its_path_after_a_restart(
    settings: Settings,
):
    await add_operator(settings, available=True)
    edge = Peer(0, host=EDGE)  # its server is set once the line is up
    first = await start(settings)
    try:
        edge.server = ("127.0.0.1", first.port)
        status = await asyncio.to_thread(
            edge.register, "op1", PASSWORD, through_edge(edge, "203.0.113.7"), CONTACT
        )
        assert status == 200
    finally:
        await first.phone.stop()  # the registration's write is finished by then

    line = await start(settings)  # a new process: the binding comes from the database
    edge.server = ("127.0.0.1", line.port)
    caller = Caller(line.port)
    try:
        [row] = await stored(line)
        assert (row.username, row.contact, row.path) == ("op1", CONTACT, [path_of(edge)])
        caller.invite()
        ok = await asyncio.to_thread(caller.wait_for, lambda m: m.status == 200, 5)
        caller.to_tag = f";tag={ok.to_addr.tag}"
        caller.request("ACK", 1)
        caller.request("INFO", 2, "Signal=4\r\nDuration=160\r\n", "application/dtmf-relay")
        invite = await asyncio.to_thread(edge.recv, 10, lambda m: m.method == "INVITE")
        # Busy: the line ACKs on the same way, through the edge.
        edge.send(
            "SIP/2.0 486 Busy Here\r\n"
            + "".join(f"{name}: {invite.get(name)}\r\n" for name in ("via", "from", "call-id"))
            + f"To: {invite.get('to')};tag=busy\r\nCSeq: {invite.get('cseq')}\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        ack = await asyncio.to_thread(edge.recv, 5, lambda m: m.method == "ACK")
        caller.request("BYE", 3)
    finally:
        caller.close()
        with contextlib.suppress(Exception):
            edge.close()
        await line.phone.stop()
    assert invite.uri == CONTACT
    assert invite.get_all("route") == [path_of(edge)]
    assert ack.get_all("route") == [path_of(edge)]


@pytest.mark.parametrize(
    ("value", "route"),
    [
        ("sip:10.0.0.5:5060", "<sip:10.0.0.5:5060;lr>"),
        ("<sip:10.0.0.5;lr>", "<sip:10.0.0.5;lr>"),
        ("", ""),
    ],
)
def test_the_outbound_proxy_setting_becomes_a_loose_route(value: str, route: str) -> None:
    from hotline.telephony.sip.route import proxy_route

    setting = Settings(sip_outbound_proxy=value, secret_key="k" * 40).sip_outbound_proxy
    assert proxy_route(setting) == route


@pytest.mark.parametrize("value", ["sip:edge.example.vn:5060", "10.0.0.5", "sip:"])
def test_an_outbound_proxy_the_line_cannot_reach_is_refused_at_start(value: str) -> None:
    """The line has no resolver: a host name (or no SIP URI at all) is named as the error."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="sip_outbound_proxy"):
        Settings(sip_outbound_proxy=value, secret_key="k" * 40)
