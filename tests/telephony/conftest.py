"""The phone line started in-process on an asyncio task, and sipp run against it."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.auth.service import SYSTEM, actor_of
from hotline.calls.models import Call
from hotline.db import create_engine, make_sessionmaker
from hotline.eventfeed import EventFeed
from hotline.events import EventBus
from hotline.settings import Settings
from hotline.site import Site
from hotline.staffing.availability import set_availability
from hotline.staffing.clock import allow_off_shift
from hotline.telephony.ivr import default_menu
from hotline.telephony.server import PhoneLine
from tests.conftest import missing_tool

SCENARIOS = Path(__file__).parent / "scenarios"
DEST_115 = "sip:115@127.0.0.1:5999"
DEST_CDC = "sip:cdc@127.0.0.1:5999"
# One-word prompts and a short digit timeout keep each scenario to a few seconds.
TEST_TEXTS = {"greeting": "một", "invalid": "hai", "transferring": "ba", "queue": "bốn"}
DIGIT_TIMEOUT = 0.3


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port free for UDP and TCP, with the three after it free too: sipp's `-mp` media
    port takes four in a row (audio RTP/RTCP, video RTP/RTCP), and some peers open TCP on
    their SIP port as well; a neighbour taken by another worker failed a test with EADDRINUSE."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port + 3 < 65536 and _all_free(host, port):
            return port
    raise RuntimeError("no free run of four ports")


def _all_free(host: str, port: int) -> bool:
    for p in range(port, port + 4):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind((host, p))
                except OSError:
                    return False
    return True


@dataclass
class SippResult:
    returncode: int
    output: str


@dataclass
class Line:
    phone: PhoneLine
    port: int

    async def sipp(
        self, scenario: str, *, local_ip: str = "127.0.0.1", extra: tuple[str, ...] = ()
    ) -> SippResult:
        """Run one bounded sipp call (-m 1, global timeout) and return its exit code."""
        local_port = free_udp_port(local_ip)
        media_port = free_udp_port(local_ip)
        args = [
            *("sipp", f"127.0.0.1:{self.port}", "-sf", str(SCENARIOS / scenario)),
            *("-m", "1", "-i", local_ip, "-p", str(local_port), "-mp", str(media_port)),
            *("-timeout", "25s", "-timeout_error", "-nostdin"),
            *extra,
        ]
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 40)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
        return SippResult(proc.returncode or 0, out.decode("utf-8", "replace")[-3000:])

    async def calls(self) -> list[Call]:
        """The call records, once every call has ended and its record is written."""
        ua, recorder = self.phone.ua, self.phone.recorder
        assert ua is not None and recorder is not None
        for _ in range(100):
            if not ua.calls and not ua._tasks:
                break
            await asyncio.sleep(0.05)
        await recorder.drain()
        assert self.phone.engine is not None
        sessionmaker = make_sessionmaker(self.phone.engine, Site.from_settings(self.phone.settings))
        async with sessionmaker() as session:
            return list((await session.scalars(select(Call).order_by(Call.id))).all())


def line_settings(settings: Settings, **overrides: object) -> Settings:
    base = free_udp_port() // 2 * 2
    values = {
        "sip_host": "127.0.0.1",
        "sip_port": 0,
        "sip_rtp_port_min": 30000 + base % 20000,
        "sip_rtp_port_max": 30000 + base % 20000 + 200,
        "sip_transfer_115": DEST_115,
        "sip_transfer_cdc": DEST_CDC,
        "sip_digit_timeout": DIGIT_TIMEOUT,
    }
    values.update(overrides)
    return settings.model_copy(update=values)


@pytest.fixture
def sipp_installed() -> None:
    if shutil.which("sipp") is None:
        missing_tool("sipp is not installed (make debian-test-deps installs sip-tester)")


async def start_line(
    settings: Settings,
    *,
    ring_seconds: float = 0.0,
    texts: dict[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
) -> Line:
    menu = default_menu(
        dest_115=settings.sip_transfer_115,
        dest_cdc=settings.sip_transfer_cdc,
        digit_timeout=settings.sip_digit_timeout,
        ring_seconds=ring_seconds,
    )
    menu.texts.clear()
    menu.texts.update(TEST_TEXTS | (texts or {}))
    phone = PhoneLine(settings, menu=menu, **({"now": now} if now else {}))
    ua = await phone.start()
    return Line(phone, ua.port)


@pytest.fixture
async def line(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    running = await start_line(line_settings(settings))
    yield running
    await running.phone.stop()


@contextlib.asynccontextmanager
async def web_feed(settings: Settings) -> AsyncIterator[EventBus]:
    """What a web process (its own engine, nothing shared with the line but the database,
    and Redis when `settings` names it) delivers to its consoles: the event log's feed."""
    engine = create_engine(settings.effective_database_url)
    bus = EventBus()
    feed = EventFeed(settings, engine, bus)
    await feed.start()
    try:
        yield bus
    finally:
        await feed.stop()
        await engine.dispose()


async def on_duty(session: AsyncSession, user_id: int) -> None:
    """An operator at work and available, as the queue wants them: with no roster in these
    tests, a supervisor's leave lets them clock in (staffing/availability.py), and the
    queue rings only people clocked in or on leave (staffing/service.py ringable)."""
    user = await session.get(User, user_id)
    assert user is not None
    await allow_off_shift(
        session, actor=SYSTEM, user_id=user_id, minutes=600, reason="Trực đường dây thử"
    )
    await set_availability(session, actor=actor_of(user), status="available")
