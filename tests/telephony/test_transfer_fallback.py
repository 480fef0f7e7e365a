"""Putting a caller through to 115 when the REFER goes unanswered or 115 refuses: the line
calls 115 itself within the destination's bound, and the call record keeps every attempt."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.calls.models import Call, TransferAttempt
from hotline.db import make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from hotline.telephony.server import PhoneLine
from tests.telephony.conftest import SCENARIOS, Line, free_udp_port, line_settings
from tests.telephony.test_acd import add_operator, phone_args, register, run_sipp
from tests.telephony.test_phone_config import configure

pytestmark = pytest.mark.anyio


@pytest.fixture
def line_conf(settings: Settings, sipp_installed: None) -> Settings:
    return line_settings(settings, sip_config_poll_seconds=0.2)


FALLBACK_AFTER = 1.5  # seconds from the key to the line's own INVITE to 115
STAMP = re.compile(r"^-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$")


async def peer_115(line: Line, port: int, scenario: str, log: Path) -> tuple[int, str]:
    """sipp as the 115 centre's UAS on `port`, logging every message with its time."""
    args = [
        *("sipp", f"127.0.0.1:{line.port}", "-sf", str(SCENARIOS / scenario)),
        *("-m", "1", "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_udp_port())),
        *("-s", "115", "-timeout", "25s", "-timeout_error", "-nostdin"),
        *("-key", "opport", str(free_udp_port())),
        *("-trace_msg", "-message_file", str(log)),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 40)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")[-3000:]


def first_time(log: Path, direction: str, start_line: str) -> datetime:
    """When sipp first sent or received (`direction`) a message whose first line starts so."""
    lines = log.read_text().splitlines()
    for i, text in enumerate(lines):
        stamp = STAMP.match(text)
        if stamp is None or i + 3 >= len(lines) or direction not in lines[i + 1]:
            continue
        first = next((t for t in lines[i + 2 : i + 5] if t.strip()), "")
        if first.strip().startswith(start_line):
            return datetime.fromisoformat(stamp.group(1))
    raise AssertionError(f"no {direction} {start_line} in {log}:\n" + "\n".join(lines[:40]))


async def _call(
    line_conf: Settings,
    tmp_path: Path,
    caller: str,
    far: str | None,  # 115's scenario; None: nobody listens there
    hold_ms: int,
    operator_phone: Callable[[Line], Awaitable[asyncio.Task[tuple[int, str]]]] | None = None,
    **destination: float,
) -> tuple[Call, list[TransferAttempt], Path, Path]:
    far_port = free_udp_port()
    await configure(
        line_conf,
        "destination",
        "115",
        {
            "uri": f"sip:115@127.0.0.1:{far_port}",
            "refer": True,
            "outcome": "transferred_115",
            "fallback_after": FALLBACK_AFTER,
            **destination,
        },
    )
    phone = PhoneLine(line_conf)
    ua = await phone.start()
    line = Line(phone, ua.port)
    caller_log, far_log = tmp_path / "caller.log", tmp_path / "115.log"
    try:
        far_peer = asyncio.create_task(peer_115(line, far_port, far, far_log)) if far else None
        operator = await operator_phone(line) if operator_phone is not None else None
        await asyncio.sleep(0.5)  # 115 listens before the caller dials
        extra = ("-d", str(hold_ms), "-trace_msg", "-message_file", str(caller_log))
        result = await line.sipp(caller, extra=extra)
        assert result.returncode == 0, result.output
        if far_peer is not None:
            code, out = await far_peer
            assert code == 0, out
        if operator is not None:
            code, out = await operator
            assert code == 0, out
        [call] = await line.calls()
        assert phone.engine is not None
        async with make_sessionmaker(phone.engine, Site.from_settings(line_conf))() as session:
            attempts = list(
                (
                    await session.scalars(
                        select(TransferAttempt)
                        .where(TransferAttempt.call_id == call.id)
                        .order_by(TransferAttempt.seq)
                    )
                ).all()
            )
    finally:
        await phone.stop()
    return call, attempts, caller_log, far_log


async def test_unanswered_refer_falls_back_to_calling_115_within_the_bound(
    line_conf: Settings, tmp_path: Path
):
    call, attempts, caller_log, far_log = await _call(
        line_conf, tmp_path, "info_digit1_refer_unanswered.xml", "operator_phone_answers.xml", 4000
    )
    key = first_time(caller_log, "sent", "INFO ")
    invite = first_time(far_log, "received", "INVITE ")
    # The protocol bound: the line's own INVITE left at most FALLBACK_AFTER after the key
    # reached it (plus the loopback hop and one scheduling step).
    assert (invite - key).total_seconds() <= FALLBACK_AFTER + 0.25, (key, invite)
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "115",
        "transferred_115",
    )
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "timeout", None),
        ("bridge", "answered", 200),
    ]
    assert all(a.destination == "115" and a.ended_at is not None for a in attempts)


async def test_115_refusing_the_bridged_call_is_a_failed_transfer_not_an_abandoned_call(
    line_conf: Settings, tmp_path: Path
):
    call, attempts, _caller_log, _far_log = await _call(
        line_conf, tmp_path, "info_digit1_refer_declined.xml", "operator_phone_busy.xml", 2500
    )
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "115",
        "transfer_failed",
    )
    assert call.operator_id is None and call.answered_at is None
    assert [(a.method.value, a.destination, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "115", "refused", 603),
        ("bridge", "115", "refused", 486),
        ("queue", "operator", "abandoned", None),
    ]
    assert attempts[0].target == attempts[1].target and attempts[2].target is None


async def test_refer_accepted_but_reported_failed_falls_back_to_calling_115(
    line_conf: Settings, tmp_path: Path
):
    call, attempts, _caller_log, _far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_notify_failed.xml",
        "operator_phone_answers.xml",
        2500,
    )
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "115",
        "transferred_115",
    )
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "refused", 503),
        ("bridge", "answered", 200),
    ]


async def test_a_failed_transfer_answered_by_an_operator_keeps_its_branch_and_attempts(
    line_conf: Settings, tmp_path: Path
):
    """The operator who takes the caller sees branch 115; the record counts the answer."""
    conf = line_conf.model_copy(update={"sip_agent_poll_seconds": 0.2})
    user_id = await add_operator(conf)

    async def operator_phone(line: Line) -> asyncio.Task[tuple[int, str]]:
        await asyncio.sleep(0.5)  # the poll has the operator's credentials
        port = free_udp_port()
        code, out = await register(line, port)
        assert code == 0, out
        args = phone_args(line, "operator_phone_answers.xml", port)
        return asyncio.create_task(run_sipp([*args, "-key", "opport", str(free_udp_port())]))

    call, attempts, _caller_log, _far_log = await _call(
        conf,
        tmp_path,
        "info_digit1_refer_declined.xml",
        "operator_phone_busy.xml",
        3000,
        operator_phone,
    )
    assert (call.branch, call.outcome.value if call.outcome else None) == ("115", "answered")
    assert call.operator_id == user_id
    assert [(a.method.value, a.destination, a.result.value) for a in attempts] == [
        ("refer", "115", "refused"),
        ("bridge", "115", "refused"),
        ("queue", "operator", "answered"),
    ]
    assert attempts[2].ended_at == call.answered_at


async def attempts_of_call(line: Line, call: Call) -> list[tuple[str, str, int | None]]:
    assert line.phone.engine is not None
    sessionmaker = make_sessionmaker(line.phone.engine, Site.from_settings(line.phone.settings))
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(TransferAttempt)
            .where(TransferAttempt.call_id == call.id)
            .order_by(TransferAttempt.seq)
        )
        return [(a.method.value, a.result.value, a.sip_status) for a in rows]


@pytest.mark.parametrize(
    ("scenario", "attempt"),
    [
        ("rfc4733_digit1_refer_115.xml", ("refer", "accepted", 202)),
        ("refer_115_notify_then_line_hangs_up.xml", ("refer", "answered", 200)),
    ],
    ids=["caller-side-hangs-up-after-202", "notify-200"],
)
async def test_an_accepted_refer_is_one_attempt_whoever_ends_the_call(
    line: Line, scenario: str, attempt: tuple[str, str, int]
):
    """The caller's side ending our call after its 202 is the transfer going through."""
    result = await line.sipp(scenario)
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert await attempts_of_call(line, call) == [attempt]


PROGRESS_AFTER = 1.0  # seconds from the REFER for a NOTIFY showing 115 ringing
RING_SECONDS = 2.0  # seconds 115 may ring (by the NOTIFYs) before the line calls it itself


async def test_a_refer_reported_only_trying_falls_back_within_the_progress_bound(
    line_conf: Settings, tmp_path: Path
):
    """202 and `100 Trying`, then nothing: not the menu's 30 s, the destination's bound."""
    call, attempts, caller_log, far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_trying_only.xml",
        "operator_phone_answers.xml",
        5000,
        progress_after=PROGRESS_AFTER,
        ring_seconds=RING_SECONDS,
    )
    accepted = first_time(caller_log, "sent", "SIP/2.0 202")
    invite = first_time(far_log, "received", "INVITE ")
    # The protocol bound (issue: default at most 4 s), plus the loopback hop.
    assert (invite - accepted).total_seconds() <= PROGRESS_AFTER + 0.25, (accepted, invite)
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "115",
        "transferred_115",
    )
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "timeout", 100),  # the last the caller's side said: 100 Trying
        ("bridge", "answered", 200),
    ]


async def test_a_slow_202_leaves_less_of_the_progress_bound_not_more(
    line_conf: Settings, tmp_path: Path
):
    """The 202 takes 0.8 s, then only `100 Trying`: the line calls 115 `progress_after`
    seconds after its REFER, not `progress_after` after the 202 (the caller would wait the
    two bounds one after the other)."""
    _call_row, attempts, caller_log, far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_slow_202_trying_only.xml",
        "operator_phone_answers.xml",
        5000,
        progress_after=PROGRESS_AFTER,
        ring_seconds=RING_SECONDS,
    )
    referred = first_time(caller_log, "received", "REFER ")
    accepted = first_time(caller_log, "sent", "SIP/2.0 202")
    invite = first_time(far_log, "received", "INVITE ")
    assert (accepted - referred).total_seconds() >= 0.7, (referred, accepted)
    assert (invite - referred).total_seconds() <= PROGRESS_AFTER + 0.25, (referred, invite)
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "timeout", 100),
        ("bridge", "answered", 200),
    ]


async def test_a_refer_ringing_unanswered_falls_back_after_the_ring_time(
    line_conf: Settings, tmp_path: Path
):
    call, attempts, caller_log, far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_rings_unanswered.xml",
        "operator_phone_answers.xml",
        5500,
        progress_after=PROGRESS_AFTER,
        ring_seconds=RING_SECONDS,
    )
    ringing = first_time(caller_log, "sent", "NOTIFY ")
    invite = first_time(far_log, "received", "INVITE ")
    # The first NOTIFY (100 Trying) is sent just before the 180's.
    assert (invite - ringing).total_seconds() <= RING_SECONDS + 0.5, (ringing, invite)
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "timeout", 180),
        ("bridge", "answered", 200),
    ]


async def test_a_ringing_refer_is_waited_for_past_the_progress_bound(
    line_conf: Settings, tmp_path: Path
):
    """Ringing shown: the destination's ring time, not the progress bound, applies; its
    answer ends the line's call and nobody else is called."""
    call, attempts, _caller_log, _far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_rings_then_answered.xml",
        None,
        int((PROGRESS_AFTER + 1) * 1000),
        progress_after=PROGRESS_AFTER,
        ring_seconds=RING_SECONDS + 2,
    )
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert (call.ended_by, call.release_cause) == ("line", "transferred")
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "answered", 200)
    ]


LATE_RING_SECONDS = 10.0


@pytest.mark.parametrize(
    ("far", "bridge"),
    [
        ("operator_phone_answers.xml", [("bridge", "answered", 200)]),
        ("operator_phone_no_answer.xml", [("bridge", "abandoned", None)]),
        ("operator_phone_busy.xml", [("bridge", "refused", 486), ("queue", "abandoned", None)]),
    ],
    ids=["bridge-answered", "bridge-ringing", "bridge-refused-caller-in-queue"],
)
async def test_a_refer_answered_after_the_fallback_leaves_one_call_to_115(
    line_conf: Settings, tmp_path: Path, far: str, bridge: list[tuple[str, str, int | None]]
):
    """The caller's side reports 115's answer after the line called 115 itself: the line's
    call to 115 is ended (BYE, or CANCEL while it rings; 115's sipp checks which) and so is
    its call with the caller, whose side now talks to 115 directly; or, the line's call
    having failed, the caller's wait for an operator ends, and it is no failed transfer."""
    call, attempts, _caller_log, _far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_answered_late.xml",
        far,
        3500,
        progress_after=PROGRESS_AFTER,
        # The line's own call rings 115 this long: still ringing when the NOTIFY comes.
        ring_seconds=LATE_RING_SECONDS,
    )
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert (call.ended_by, call.release_cause) == ("line", "transferred")
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "answered", 200),
        *bridge,
    ]
    assert all(a.ended_at is not None for a in attempts)
