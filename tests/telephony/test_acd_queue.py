"""The ACD's choices without the network: places in the queue, FIFO, longest idle first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from hotline.agents.service import LineAgent
from hotline.telephony.acd import Acd
from hotline.telephony.backend import CallProgress
from hotline.telephony.sip.ua import UaConfig, UserAgent

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class FakeLeg:
    """Only what the ACD reads of a caller's leg (the caller, the codec, whether it ended)."""

    record: CallProgress = field(
        default_factory=lambda: CallProgress(line="1022", caller="", started_at=T0)
    )
    codec: int = 8
    ended: asyncio.Event = field(default_factory=asyncio.Event)


def agent(user_id: int, *, idle_since: datetime, queues: tuple[str, ...] = ("operator",)) -> Any:
    return LineAgent(
        user_id=user_id,
        queues=queues,
        status="available",
        status_since=idle_since,
        sip_username=None,
        sip_ha1=None,
        sip_uri=f"sip:op{user_id}@127.0.0.1:{5100 + user_id}",
    )


async def test_places_are_fifo_per_queue_and_move_up_when_someone_leaves():
    acd = Acd(UserAgent(UaConfig()), ring_seconds=1)
    first, second = cast(Any, FakeLeg()), cast(Any, FakeLeg())
    doctor_caller = cast(Any, FakeLeg())
    a = acd.join(first, "operator")
    b = acd.join(second, "operator")
    d = acd.join(doctor_caller, "doctor")
    assert (acd.position(a), acd.position(b), acd.position(d)) == (1, 2, 1)
    acd.leave(a)
    assert (acd.position(a), acd.position(b)) == (0, 1)


async def test_longest_idle_available_operator_of_the_queue_comes_first():
    acd = Acd(UserAgent(UaConfig()), ring_seconds=1)
    acd.agents = {
        1: agent(1, idle_since=T0),
        2: agent(2, idle_since=T0 - timedelta(minutes=5)),  # idle the longest
        3: agent(3, idle_since=T0 - timedelta(minutes=9), queues=("doctor",)),
        4: LineAgent(
            4, ("operator",), "away", T0 - timedelta(hours=1), None, None, "sip:x@1.2.3.4"
        ),
        5: LineAgent(5, ("operator",), "available", T0 - timedelta(hours=1), "op5", "h", None),
    }
    # 4 is away, 5 has neither a registered phone nor a fixed URI: neither is rung.
    assert [a.user_id for a in acd.free("operator")] == [2, 1]
    acd.last_call_end[2] = T0 + timedelta(minutes=1)  # 2 just finished a call
    assert [a.user_id for a in acd.free("operator")] == [1, 2]
    acd.engaged.add(1)
    assert [a.user_id for a in acd.free("operator")] == [2]
    acd.misses[2] = 2  # missed twice: not rung until their status changes
    assert acd.free("operator") == []
    assert [a.user_id for a in acd.free("doctor")] == [3]
