"""Each server transaction's last response is kept 64*T1 for its retransmissions without a
timer of its own: a timer handle, its context and a bound method per response were ~2,000
objects of each at 20 calls a second, walked by every full collection (sip/kept.py)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.kept import KeptFor
from tests.telephony.conftest import line_settings, start_line
from tests.telephony.test_door_guard import Peer
from tests.telephony.test_sip_protocol import invite


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_lives_its_ttl_after_its_last_set() -> None:
    clock = _Clock()
    kept: KeptFor[str, bytes] = KeptFor(32.0, clock)
    kept.set("a", b"100 Trying")
    clock.now += 10
    kept.set("b", b"200 OK")
    kept.set("a", b"200 OK")  # answered again: kept 32 s from now
    clock.now += 25  # 35 s after a's first set, 25 s after its last
    assert kept.get("a") == b"200 OK"
    assert kept.get("b") == b"200 OK"
    clock.now += 7.5
    assert kept.get("a") is None and kept.get("b") is None
    assert len(kept) == 0


@pytest.mark.anyio
async def test_answered_requests_leave_no_tracked_objects_behind(settings: Settings) -> None:
    line = await start_line(line_settings(settings))
    peer = Peer(line.port)

    def options(i: int) -> str:
        text = invite(peer, call_id=f"keep{i}", branch=f"z9hG4bKkeep{i}")
        return text.replace("INVITE", "OPTIONS", 1).replace("1 INVITE", "1 OPTIONS")

    async def ask(first: int, n: int) -> None:
        for i in range(first, first + n):
            peer.send(options(i))
            answer = await asyncio.to_thread(peer.recv, 2)
            assert answer.status == 200

    try:
        await ask(0, 20)  # whatever the first requests build once
        gc.collect()
        before = len(gc.get_objects())
        await ask(20, 300)
        gc.collect()
        grown = len(gc.get_objects()) - before
        # Their answers are kept (a retransmission is answered again) ...
        peer.send(options(25))
        assert (await asyncio.to_thread(peer.recv, 2)).status == 200
    finally:
        peer.close()
        await line.phone.stop()
    # ... but not as objects the collector walks (a timer each left 3).
    assert grown < 300, grown  # under one per request (a timer each: 965 for these 300)
