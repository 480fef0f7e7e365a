"""The menu's rules, walked with a scripted caller (no network). Transfers (keys 1 and 2)
are the configured menu's (telephony/transfer.py), tested against real peers
(test_transfer_fallback.py, test_sipp_calls.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hotline.db import utcnow
from hotline.telephony.backend import CallEnded, CallProgress
from hotline.telephony.ivr import Ivr, default_menu
from hotline.telephony.prompts import PromptSet, silence
from hotline.telephony.server import new_call


class ScriptedLeg:
    """Presses the scripted keys, one per greeting (None = silence), hangs up in the queue."""

    def __init__(self, keys: list[str | None]) -> None:
        self.record = CallProgress(line="1022", caller="+84912345678", started_at=utcnow())
        self.keys = list(keys)
        self.played: list[str] = []

    async def ring(self) -> None:
        self.played.append("<ring>")

    async def answer(self) -> None:
        self.played.append("<answer>")

    async def play(self, prompt, *, barge_in: bool = True) -> str | None:
        self.played.append(prompt.name)
        if prompt.name == "hold":
            self.record.ended_at = utcnow()
            raise CallEnded("caller hung up while waiting")
        return self.keys.pop(0) if prompt.name == "greeting" and self.keys else None

    async def collect_digit(self, timeout: float) -> str | None:
        return None

    async def hangup(self) -> None:
        self.record.ended_at = utcnow()

    async def wait_ended(self) -> None:
        return None


PROMPTS = PromptSet(
    {n: silence(n, 0.02) for n in ("greeting", "invalid", "transferring", "queue", "hold")}
)
MENU = default_menu(dest_115="sip:115@a", dest_cdc="sip:cdc@a")


async def _walk(leg: ScriptedLeg) -> ScriptedLeg:
    with contextlib.suppress(CallEnded):  # the scripted caller hangs up in the queue
        await Ivr(MENU, PROMPTS)(leg)
    return leg


@pytest.mark.parametrize(
    ("keys", "path", "branch", "outcome"),
    [
        (["9", "3"], "93", "doctor", "abandoned_queue"),
        ([None, None, None], "", "operator", "abandoned_queue"),
        (["7", "8", "9"], "789", "operator", "abandoned_queue"),
    ],
    ids=["wrong-then-doctor", "silence", "three-wrong"],
)
def test_menu_routes_and_records(keys, path, branch, outcome):
    leg = asyncio.run(_walk(ScriptedLeg(keys)))
    record = new_call(leg.record)
    assert (record.menu_path, record.branch, record.outcome) == (path, branch, outcome)


def test_wrong_key_is_announced_and_greeting_played_at_most_three_times():
    leg = asyncio.run(_walk(ScriptedLeg(["7", "8", "9"])))
    assert leg.played.count("greeting") == 3 and leg.played.count("invalid") == 2
    assert leg.played[-2:] == ["queue", "hold"]
