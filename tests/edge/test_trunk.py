"""Carrier trunks as carriers run them: the line REGISTERs with digest to a registrar that
challenges every attempt and grants short bindings (sipp as the carrier), refreshes them, gets
back after a refusal, and takes the carrier's call from the registrar's address; and a trunk
known only by name and password is admitted by its digest, a wrong password refused."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.settings import Settings, load_settings
from tests.telephony.conftest import Line, free_udp_port, line_settings, start_line

pytestmark = pytest.mark.anyio
SCENARIOS = Path(__file__).parent / "scenarios"
# No network is a trunk by address here: loopback would admit sipp by address.
NO_TRUNK_NETWORK = ["192.0.2.0/24"]


async def run_sipp(*args: str, timeout: float = 40) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "sipp", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")[-3000:]


@pytest.fixture
async def digest_line(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    running = await start_line(
        line_settings(
            settings,
            sip_trunk_networks=NO_TRUNK_NETWORK,
            sip_trunk_users={"branch-office": "trunk-pass"},
        )
    )
    yield running
    await running.phone.stop()


def sipp_client(line: Line, scenario: str, *extra: str) -> list[str]:
    return [
        f"127.0.0.1:{line.port}",
        *("-sf", str(SCENARIOS / scenario), "-m", "1", "-i", "127.0.0.1"),
        *("-p", str(free_udp_port()), "-mp", str(free_udp_port())),
        *("-timeout", "25s", "-timeout_error", "-nostdin"),
        *extra,
    ]


async def test_trunk_with_the_right_digest_is_admitted(digest_line: Line) -> None:
    code, out = await run_sipp(
        *sipp_client(digest_line, "trunk_digest_call.xml", "-au", "branch-office"),
        *("-ap", "trunk-pass"),
    )
    assert code == 0, out
    calls = await digest_line.calls()
    assert len(calls) == 1 and calls[0].caller == "+84912345678"


async def test_trunk_with_a_wrong_password_is_refused(digest_line: Line) -> None:
    code, out = await run_sipp(
        *sipp_client(digest_line, "trunk_digest_refused.xml", "-au", "branch-office"),
        *("-ap", "guessed"),
    )
    assert code == 0, out
    assert await digest_line.calls() == []


async def test_a_caller_without_digest_is_challenged_not_let_in(digest_line: Line) -> None:
    # The call scenario of the right trunk, but with a user the line does not know.
    code, out = await run_sipp(
        *sipp_client(digest_line, "trunk_digest_refused.xml", "-au", "stranger"),
        *("-ap", "trunk-pass"),
    )
    assert code == 0, out


async def test_line_registers_refreshes_recovers_and_takes_the_carriers_call(
    settings: Settings, sipp_installed: None
) -> None:
    registrar_port = free_udp_port()
    running = await start_line(
        line_settings(
            settings,
            sip_trunk_networks=NO_TRUNK_NETWORK,
            sip_trunk_registrar=f"127.0.0.1:{registrar_port}",
            sip_trunk_domain="carrier.example",
            sip_trunk_username="hotline-1022",
            sip_trunk_password="carrier-pass",
            sip_trunk_register_retry=1.0,
        )
    )
    try:
        # sipp is the carrier: started after the line, it misses the first REGISTER and
        # gets the line's retry (what a registrar that was down at the line's start sees).
        code, out = await run_sipp(
            f"127.0.0.1:{running.port}",
            *("-sf", str(SCENARIOS / "carrier_registrar.xml"), "-m", "1"),
            *("-i", "127.0.0.1", "-p", str(registrar_port), "-mp", str(free_udp_port())),
            *("-timeout", "30s", "-timeout_error", "-nostdin"),
        )
        assert code == 0, out
        registrant = running.phone.ua.registrant if running.phone.ua else None
        assert registrant is not None and registrant.registered
        assert registrant.registrations == 3
        calls = await running.calls()
        assert len(calls) == 1
    finally:
        await running.phone.stop()


def invite_naming_source(port: int, local: int, source: str, n: int) -> bytes:
    return (
        f"INVITE sip:1022@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-named{n}\r\n"
        f"From: <sip:0912345678@127.0.0.1>;tag=n{n}\r\nTo: <sip:1022@127.0.0.1>\r\n"
        f"Call-ID: named-{n}-{local}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:0912345678@127.0.0.1:{local}>\r\nX-Hotline-Source: {source}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


async def first_status(line: Line, data: bytes) -> int:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        sock.sendto(
            data.replace(b"LOCAL", str(sock.getsockname()[1]).encode()), ("127.0.0.1", line.port)
        )
        reply = await asyncio.wait_for(loop.sock_recv(sock, 65535), 5)
        return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("edges", "status"),
    [
        (["127.0.0.1/32"], 100),  # the edge vouches for a trunk's address: taken
        (["192.0.2.99/32"], 403),  # the same header from a stranger: ignored, refused
    ],
)
async def test_the_source_named_by_the_edge_counts_only_from_the_edge(
    settings: Settings, edges: list[str], status: int
) -> None:
    running = await start_line(
        line_settings(settings, sip_trunk_networks=["192.0.2.0/24"], sip_edge_networks=edges)
    )
    try:
        data = invite_naming_source(running.port, 0, "192.0.2.7", 1)
        data = data.replace(b"127.0.0.1:0", b"127.0.0.1:LOCAL")
        assert await first_status(running, data) == status
    finally:
        await running.phone.stop()


def test_the_trunk_password_can_come_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "trunk-password"
    secret.write_text("carrier-pass\n")
    monkeypatch.setenv("HOTLINE_SIP_TRUNK_PASSWORD_FILE", str(secret))
    assert load_settings().sip_trunk_password == "carrier-pass"
    assert "carrier-pass" not in repr(load_settings())
