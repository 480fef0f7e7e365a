"""Two `hotline sip` processes behind Kamailio (deploy/kamailio/): calls are spread over both,
and when one is killed new calls still succeed, by failover and then by the OPTIONS probes
taking it out of the rotation.

Everything is real: the instances run as `python -m hotline.cli sip` on one shared database,
Kamailio runs the checked-in configuration (ports and the dispatcher list passed with -A), and
sipp places the calls through the proxy. Calls are placed in phases with no call in progress
at the kill, so every count is exact.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.calls.models import Call
from hotline.db import create_engine
from hotline.settings import Settings, normalise_database_url
from tests.conftest import missing_tool
from tests.telephony.conftest import SCENARIOS, free_udp_port
from tests.telephony.test_cli import OPTIONS

REPO = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = REPO / "deploy" / "kamailio" / "kamailio.cfg"
CALLS_PER_PHASE = 10


def _start(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # Own session: the kill below hits this process alone, the cleanup its whole group.
    with log.open("wb") as out:
        return subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _answers_options(port: int, *, within: float, proc: subprocess.Popen[bytes]) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.settimeout(0.3)
        deadline, n = time.monotonic() + within, 0
        while time.monotonic() < deadline and proc.poll() is None:
            n += 1
            text = OPTIONS.format(port=probe.getsockname()[1], n=n)
            probe.sendto(text.encode(), ("127.0.0.1", port))
            try:
                if probe.recv(65535).startswith(b"SIP/2.0 200"):
                    return True
            except TimeoutError:
                continue
    return False


def _wait_for(predicate: Callable[[], object], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _call_count(url: str) -> int:
    async def count() -> int:
        engine = create_engine(normalise_database_url(url))
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(select(func.count()).select_from(Call))).scalar())
        finally:
            await engine.dispose()

    return asyncio.run(count())


class Topology:
    def __init__(self, database_url: str, tmp: Path) -> None:
        self.tmp = tmp
        self.url = database_url
        self.ports = [free_udp_port(), free_udp_port()]
        self.proxy_port = free_udp_port()
        self.instances: list[subprocess.Popen[bytes]] = []
        self.kamailio: subprocess.Popen[bytes] | None = None
        self.kamailio_log = tmp / "kamailio.log"
        self.phase = 0

    def start(self) -> None:
        for i, port in enumerate(self.ports):
            rtp = 43000 + 1000 * i + (os.getpid() % 4) * 200
            env = {
                **os.environ,
                "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                "HOTLINE_DATABASE_URL": self.url,
                "HOTLINE_VAR_DIR": str(self.tmp / f"var{i}"),
                "HOTLINE_SIP_RTP_PORT_MIN": str(rtp),
                "HOTLINE_SIP_RTP_PORT_MAX": str(rtp + 198),
            }
            args = [sys.executable, "-m", "hotline.cli", "sip", "--host", "127.0.0.1"]
            self.instances.append(
                _start([*args, "--port", str(port)], self.tmp / f"instance{i}.log", env)
            )
        for port, proc in zip(self.ports, self.instances, strict=True):
            assert _answers_options(port, within=40, proc=proc), self.logs()
        # Started once the instances answer, so no probe finds them down at start.
        self.start_proxy()

    def start_proxy(self, *extra: str) -> None:
        dispatcher_list = self.tmp / "dispatcher.list"
        dispatcher_list.write_text("".join(f"1 sip:127.0.0.1:{p}\n" for p in self.ports))
        run_dir = self.tmp / "kamailio-run"
        run_dir.mkdir()
        self.kamailio = _start(
            [
                *("kamailio", "-DD", "-E", "-f", str(KAMAILIO_CFG)),
                *("-Y", str(run_dir), "-P", str(run_dir / "kamailio.pid")),
                *("-A", f"LISTEN=udp:127.0.0.1:{self.proxy_port}"),
                *("-A", f'DISPATCHER_LIST="{dispatcher_list}"'),
                # Probes every 3 s: the calls right after the kill reach the dead instance
                # (and fail over) before a probe could take it out, even on a slow box.
                *("-A", "PING_INTERVAL=3", "-A", "FR_TIMER=1000"),
                *extra,
            ],
            self.kamailio_log,
        )
        assert _answers_options(self.proxy_port, within=15, proc=self.kamailio), self.logs()

    def stop(self) -> None:
        for proc in [*self.instances, *([self.kamailio] if self.kamailio else [])]:
            _stop(proc)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def proxy_log(self) -> str:
        return self.kamailio_log.read_text(errors="replace")

    def calls(self) -> Counter[int]:
        """Place CALLS_PER_PHASE calls through Kamailio; by the SIP port that answered each."""
        self.phase += 1
        answered = self.tmp / f"answered-{self.phase}.log"
        result = subprocess.run(
            [
                *("sipp", f"127.0.0.1:{self.proxy_port}"),
                *("-sf", str(SCENARIOS / "call_hold_hangup.xml")),
                *("-m", str(CALLS_PER_PHASE), "-r", "10", "-l", str(CALLS_PER_PHASE)),
                *("-d", "300", "-i", "127.0.0.1"),
                *("-p", str(free_udp_port()), "-mp", str(free_udp_port())),
                *("-timeout", "25s", "-timeout_error", "-nostdin"),
                *("-trace_logs", "-log_file", str(answered)),
            ],
            capture_output=True,
            text=True,
            timeout=40,
        )
        assert result.returncode == 0, result.stdout[-3000:] + self.logs()
        ports = re.findall(r"answered-by sip:127\.0\.0\.1:(\d+)", answered.read_text())
        return Counter(int(p) for p in ports)


def _require_tools() -> None:
    for tool, package in (("sipp", "sip-tester"), ("kamailio", "kamailio")):
        if shutil.which(tool) is None:
            missing_tool(f"{tool} is not installed (make debian-test-deps installs {package})")


@pytest.fixture
def topology(settings: Settings, tmp_path: Path) -> Iterator[Topology]:
    _require_tools()
    running = Topology(settings.database_url, tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_proxy_refuses_calls_from_outside_the_trunk(tmp_path: Path):
    _require_tools()
    proxy = Topology("", tmp_path)  # no instance needed: the proxy answers itself
    try:
        proxy.start_proxy("-A", "TRUNK_NETWORK=127.0.0.1/32")
        result = subprocess.run(
            [
                *("sipp", f"127.0.0.1:{proxy.proxy_port}"),
                *("-sf", str(SCENARIOS / "invite_from_non_trunk.xml")),
                *("-m", "1", "-i", "127.0.0.2", "-p", str(free_udp_port("127.0.0.2"))),
                *("-mp", str(free_udp_port("127.0.0.2"))),
                *("-timeout", "15s", "-timeout_error", "-nostdin"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stdout[-3000:] + proxy.logs()
        assert "refused INVITE from 127.0.0.2" in proxy.proxy_log()
        assert "dispatch" not in proxy.proxy_log()
    finally:
        proxy.stop()


def test_two_instances_share_calls_and_survive_one_being_killed(topology: Topology):
    first, second = topology.ports

    # Round-robin: both instances answer, and both write their records to the one database.
    before = topology.calls()
    assert sum(before.values()) == CALLS_PER_PHASE
    assert before[first] > 0 and before[second] > 0, before
    _wait_for(
        lambda: _call_count(topology.url) == CALLS_PER_PHASE, within=15, what="10 call records"
    )

    # Killed without warning: calls sent to it time out at the proxy and fail over.
    topology.instances[1].send_signal(signal.SIGKILL)
    topology.instances[1].wait()
    right_after = topology.calls()
    assert right_after == Counter({first: CALLS_PER_PHASE})
    assert f"127.0.0.1:{second} did not answer" in topology.proxy_log()

    # Out of the rotation now (failed branch and OPTIONS probes): no call even tries it.
    _wait_for(
        lambda: re.search(rf"instance down [^\n]*127\.0\.0\.1:{second}\b", topology.proxy_log()),
        within=10,
        what="Kamailio to mark the killed instance down",
    )
    failovers = topology.proxy_log().count("did not answer")
    later = topology.calls()
    assert later == Counter({first: CALLS_PER_PHASE})
    assert topology.proxy_log().count("did not answer") == failovers
    _wait_for(
        lambda: _call_count(topology.url) == 3 * CALLS_PER_PHASE,
        within=15,
        what="30 call records",
    )
