"""Password guessing through the edge, against two lines: the edge hands each new Call-ID
to either line (dispatcher by Call-ID), so a guesser who changes Call-ID and From-tag with
each try reaches both. The lockout is counted for the lines together (in the database they
share), holds at a line restarted after it (empty memory), and ends: the right password
from the operator's phone, at another address, registers once it is over."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.edge.topology import EDGE_HOST, require_tools, running_edge
from tests.telephony.conftest import line_settings, start_line
from tests.telephony.test_acd import PASSWORD, add_operator
from tests.telephony.test_baresip import poll
from tests.telephony.test_door_guard import Peer

pytestmark = pytest.mark.anyio
GUESSER, PHONE = "127.0.0.3", "127.0.0.2"
LOCKOUT = 8.0  # seconds: long enough to outlast a line's restart, short for the test
OWN = {"sip_agent_poll_seconds": 0.2, "sip_register_lockout_seconds": LOCKOUT}
# The second line trusts the edge as the first does (topology.running_edge).
LINE = {**OWN, "sip_edge_networks": [f"{EDGE_HOST}/32"], "sip_trunk_networks": ["127.0.0.0/30"]}


class Guesser(Peer):
    """A new Call-ID and From-tag for every try (a challenge and its answer share them), as
    a guessing tool does."""

    attempt = 0

    def request(self, method: str, **kw: str) -> str:  # type: ignore[override]
        kw["from_tag"] = f"g{self.attempt}"
        return super().request(method, **kw)

    def guess(self, password: str) -> int:
        self.attempt += 1
        return self.register("op1", password, call_id=f"guess-{self.port}-{self.attempt}")

    def challenged(self) -> int:
        """A REGISTER without credentials: 401 (may try) or 403 (locked out)."""
        self.attempt += 1
        call_id = f"guess-{self.port}-{self.attempt}"
        self.send(self.request("REGISTER", call_id=call_id, from_tag="", to_user="op1"))
        return self.recv(2, lambda m: m.status >= 200).status


async def test_a_guesser_changing_call_ids_is_locked_out_at_every_line_and_after_a_restart(
    settings: Settings, tmp_path: Path
) -> None:
    require_tools()
    second = await start_line(line_settings(settings, **LINE))
    lines = [second]
    try:
        async with running_edge(
            settings,
            tmp_path / "edge",
            line=OWN,
            more_lines=(f"sip:127.0.0.1:{second.port}",),
        ) as edge:
            await add_operator(settings, available=False)
            for line in (edge.line, second):
                ua = line.phone.ua
                assert ua is not None
                await poll(lambda ua=ua: "op1" in ua.credentials, 5, "the lines load op1")
            guesser = Guesser(0, GUESSER)
            guesser.server = (EDGE_HOST, edge.sip_port)
            phone = Peer(0, PHONE)
            phone.server = (EDGE_HOST, edge.sip_port)
            try:
                # The budget: 5 wrong passwords for op1 (HOTLINE_SIP_REGISTER_MAX_FAILURES).
                guesses = [await asyncio.to_thread(guesser.guess, f"guess-{n}") for n in range(5)]
                # Then nothing more, at either line: no challenge at all.
                after = [await asyncio.to_thread(guesser.challenged) for _ in range(8)]
                logged = edge.kamailio_log
                reached = set(re.findall(rf"registers from {GUESSER} over udp via (\S+)", logged))
                # The operator's phone, elsewhere, while the lockout lasts: refused too.
                during = await asyncio.to_thread(phone.register, "op1", PASSWORD)

                # The second line restarted on its port (its memory empty): still locked.
                await second.phone.stop()
                restarted = await start_line(line_settings(settings, **LINE, sip_port=second.port))
                lines.append(restarted)
                ua = restarted.phone.ua
                assert ua is not None
                await poll(lambda: "op1" in ua.credentials, 5, "the restarted line loads op1")
                direct = Guesser(restarted.port, PHONE)
                try:
                    after_restart = await asyncio.to_thread(direct.challenged)
                finally:
                    direct.close()

                # The lockout ends: the right password from the phone registers.
                statuses: list[int] = []

                async def registered() -> bool:
                    statuses.append(await asyncio.to_thread(phone.register, "op1", PASSWORD))
                    return statuses[-1] == 200

                for _ in range(int(LOCKOUT) + 10):
                    if await registered():
                        break
                    await asyncio.sleep(1)
            finally:
                guesser.close()
                phone.close()
    finally:
        for line in lines:
            await line.phone.stop()

    assert guesses == [403] * 5, guesses
    assert len(reached) == 2, (reached, logged[-3000:])  # both lines were guessed at
    assert after == [403] * 8, after
    assert during == 403
    assert after_restart == 403
    assert statuses[-1] == 200, statuses
