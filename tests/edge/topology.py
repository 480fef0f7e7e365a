"""The edge of deploy/edge started for real on loopback: rtpengine (userspace), Kamailio with the
checked-in kamailio.cfg and tls.cfg (certificates made at test time with openssl), and one line
in-process behind them. Ports are free ones; everything binds 127.0.0.1 except the sources the
tests speak from (127.0.0.1 to .3, the line's only trunk addresses) and Kamailio's, 127.0.0.5:
the whole of 127/8 is loopback on Linux."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from hotline.settings import Settings
from tests.conftest import missing_tool
from tests.telephony.conftest import Line, free_udp_port, line_settings, start_line

REPO = Path(__file__).resolve().parents[2]
EDGE = REPO / "deploy" / "edge"
EDGE_HOST = "127.0.0.5"
# A trunk the line knows by name and password (it calls from 127.0.0.4, not a trunk address).
TRUNK_USER, TRUNK_PASSWORD = "branch-office", "trunk-pass"
TOOLS = (
    ("kamailio", "kamailio"),
    ("rtpengine", "rtpengine-daemon"),
    ("sipp", "sip-tester"),
    ("openssl", "openssl"),
)


def require_tools(*extra: tuple[str, str]) -> None:
    for tool, package in (*TOOLS, *extra):
        if shutil.which(tool) is None:
            missing_tool(f"{tool} is not installed (make debian-test-deps installs {package})")
    if not any(Path("/usr/lib").glob("*/kamailio/modules/tls.so")):
        missing_tool("Kamailio's TLS module is missing (make debian-test-deps installs it)")
    if not any(Path("/usr/lib").glob("*/kamailio/modules/db_sqlite.so")):
        missing_tool("Kamailio's SQLite module is missing (make debian-test-deps installs it)")


def dialog_database(path: Path) -> Path:
    """The edge's store (dialogs, the keep-alive list), made from the schema Debian's
    package ships."""
    schema = Path("/usr/share/kamailio/db_sqlite")
    with contextlib.closing(sqlite3.connect(path)) as db:
        for name in ("standard", "dialog", "htable"):
            db.executescript((schema / f"{name}-create.sql").read_text())
        # The keep-alive list's lasting row (kamailio.cfg, KEEPALIVE_MARK; docs/edge.md).
        db.execute(
            "INSERT INTO htable (key_name, key_value) VALUES ('edge keep-alive list', 'kept')"
        )
        db.commit()
    return path


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port free for UDP and TCP alike (Kamailio listens on both with one number)."""
    for _ in range(50):
        port = free_udp_port(host)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both UDP and TCP")


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}.test"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return key, cert


async def options_answered(port: int, *, within: float, host: str = "127.0.0.1") -> bool:
    """Whether something answers OPTIONS 200 on host:port within `within` seconds."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.setblocking(False)
        local = probe.getsockname()[1]
        deadline, n = loop.time() + within, 0
        while loop.time() < deadline:
            n += 1
            probe.sendto(
                (
                    f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-probe{n}\r\n"
                    f"From: <sip:probe@127.0.0.1>;tag=p{n}\r\nTo: <sip:{host}>\r\n"
                    f"Call-ID: probe-{n}-{local}\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n"
                ).encode(),
                (host, port),
            )
            with contextlib.suppress(TimeoutError, BlockingIOError):
                data = await asyncio.wait_for(loop.sock_recv(probe, 65535), 0.3)
                if data.startswith(b"SIP/2.0 200"):
                    return True
    return False


@dataclass
class Edge:
    line: Line
    directory: Path
    sip_port: int  # UDP and TCP, the public side
    tls_port: int
    lines_port: int  # UDP, the lines' side (their outbound proxy and registrar)
    topoh_key: str
    ng_port: int
    processes: list[asyncio.subprocess.Process]
    kamailio_args: list[str]

    async def restart_kamailio(self) -> None:
        """Kamailio stopped (SIGTERM, as a service restart does) and started again with the
        same configuration and dialog store; rtpengine and the line keep running."""
        kamailio = self.processes[-1]
        await _stop(kamailio)
        self.processes[-1] = await _spawn(
            self.kamailio_args,
            self.directory / "kamailio.log",
            env={"HOTLINE_EDGE_TOPOH_KEY": self.topoh_key},
            append=True,
        )
        assert await options_answered(self.sip_port, within=15, host=EDGE_HOST), self.logs()

    @property
    def kamailio_log(self) -> str:
        return (self.directory / "kamailio.log").read_text(errors="replace")

    @property
    def rtpengine_log(self) -> str:
        return (self.directory / "rtpengine.log").read_text(errors="replace")

    def logs(self) -> str:
        kamailio, rtpengine = self.kamailio_log[-3000:], self.rtpengine_log[-2000:]
        return f"--- kamailio\n{kamailio}\n--- rtpengine\n{rtpengine}"


async def _spawn(
    args: list[str], log: Path, env: dict[str, str] | None = None, append: bool = False
) -> asyncio.subprocess.Process:
    with log.open("ab" if append else "wb") as out:
        return await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def running_edge(
    settings: Settings,
    directory: Path,
    *,
    defines: tuple[str, ...] = (),
    sip_port: int | None = None,
    lines_port: int | None = None,
    line: dict[str, object] | None = None,
    more_lines: tuple[str, ...] = (),
) -> AsyncIterator[Edge]:
    """rtpengine, Kamailio (public side on `sip_port`, lines' side on `lines_port`, else free
    ones) and one line (which trusts the edge's X-Hotline-Source; `line`: more of its
    settings); `more_lines`: more destinations (sip:host:port) in the dispatcher's list."""
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = make_certificate(directory, "edge")
    tls_cfg = directory / "tls.cfg"
    tls_cfg.write_text(
        (EDGE / "tls.cfg")
        .read_text()
        .replace("/etc/kamailio/edge/edge.key", str(key))
        .replace("/etc/kamailio/edge/edge.pem", str(cert))
    )
    # The edge (EDGE_HOST) is not a trunk: the callers' addresses (127.0.0.1 to .3) are, as
    # the edge names them, and the edge's probes are answered because it is the edge. Other
    # callers must answer a digest challenge as TRUNK_USER.
    running = await start_line(
        line_settings(
            settings,
            sip_edge_networks=[f"{EDGE_HOST}/32"],
            sip_trunk_networks=["127.0.0.0/30"],
            sip_trunk_users={TRUNK_USER: TRUNK_PASSWORD},
            **(line or {}),
        )
    )
    processes: list[asyncio.subprocess.Process] = []
    try:
        ng_port = free_udp_port()
        rtp_low = 40000 + free_udp_port() % 10000 // 2 * 2
        processes.append(
            await _spawn(
                [
                    *("rtpengine", f"--config-file={EDGE / 'rtpengine.conf'}"),
                    *("--config-section=rtpengine", "--interface=127.0.0.1"),
                    f"--listen-ng=127.0.0.1:{ng_port}",
                    *(f"--port-min={rtp_low}", f"--port-max={rtp_low + 400}"),
                    *("--foreground", "--log-stderr", f"--pidfile={directory / 'rtpe.pid'}"),
                ],
                directory / "rtpengine.log",
            )
        )
        dispatcher = directory / "dispatcher.list"
        dispatcher.write_text(
            "".join(f"1 {uri}\n" for uri in (f"sip:127.0.0.1:{running.port}", *more_lines))
        )
        run_dir = directory / "kamailio-run"
        run_dir.mkdir()
        sip_port = sip_port or free_port_pair(EDGE_HOST)
        tls_port = free_port_pair(EDGE_HOST)
        lines_port = lines_port or free_udp_port(EDGE_HOST)
        topoh_key = secrets.token_urlsafe(24)
        if not any(d.startswith("PING_INTERVAL=") for d in defines):
            defines = (*defines, "PING_INTERVAL=2")
        dialogs = dialog_database(directory / "dialogs.sqlite")
        kamailio_args = [
            *("kamailio", "-DD", "-E", "-f", str(EDGE / "kamailio.cfg")),
            *("-Y", str(run_dir), "-P", str(run_dir / "kamailio.pid")),
            *("-A", f"LISTEN_UDP=udp:{EDGE_HOST}:{sip_port}"),
            *("-A", f"LISTEN_TCP=tcp:{EDGE_HOST}:{sip_port}"),
            *("-A", f"LISTEN_TLS=tls:{EDGE_HOST}:{tls_port}"),
            *("-A", f"LISTEN_LINES=udp:{EDGE_HOST}:{lines_port}"),
            *("-A", f'TLS_CFG="{tls_cfg}"'),
            *("-A", f'DISPATCHER_LIST="{dispatcher}"'),
            *("-A", f'RTPENGINE_SOCK="udp:127.0.0.1:{ng_port}"'),
            *("-A", f'DIALOG_DB="sqlite://{dialogs}"'),
            *(arg for define in defines for arg in ("-A", define)),
        ]
        processes.append(
            await _spawn(
                kamailio_args,
                directory / "kamailio.log",
                env={"HOTLINE_EDGE_TOPOH_KEY": topoh_key},
            )
        )
        edge = Edge(
            running,
            directory,
            sip_port,
            tls_port,
            lines_port,
            topoh_key,
            ng_port,
            processes,
            kamailio_args,
        )
        assert await options_answered(sip_port, within=15, host=EDGE_HOST), edge.logs()
        yield edge
    finally:
        for proc in reversed(processes):
            await _stop(proc)
        await running.phone.stop()


MODULES = "/usr/lib/baresip/modules"


def baresip_config(directory: Path, *, mediaenc: str = "", mic: Path) -> None:
    """A headless citizen's softphone that dials out: aufile plays `mic` as its microphone,
    sndfile writes what it hears into dump/, no registration (regint=0)."""
    (directory / "dump").mkdir(parents=True)
    sip_port = free_port_pair()
    modules = ["g711.so", "aufile.so", "aubridge.so", "sndfile.so"]
    if mediaenc:
        modules.append("srtp.so")
    (directory / "config").write_text(
        f"sip_listen 127.0.0.1:{sip_port}\n"
        f"audio_source aufile,{mic}\naudio_player aubridge,nowhere\n"
        "audio_alert aubridge,nowhere\n"
        f"module_path {MODULES}\n"
        + "".join(f"module {m}\n" for m in modules)
        + "module_tmp account.so\nmodule_app menu.so\n"
        f"snd_path {directory / 'dump'}\n"
    )
    params = ";regint=0;audio_codecs=PCMU,PCMA" + (f";mediaenc={mediaenc}" if mediaenc else "")
    (directory / "accounts").write_text(f"<sip:0912345678@127.0.0.1>{params}\n")
    (directory / "contacts").write_text("")


async def start_baresip(directory: Path, dial: str) -> asyncio.subprocess.Process:
    return await _spawn(
        ["baresip", "-s", "-f", str(directory), "-e", f"/dial {dial}"], directory / "baresip.log"
    )


async def stop_baresip(proc: asyncio.subprocess.Process) -> None:
    await _stop(proc)  # SIGTERM: it hangs up and closes its recordings
