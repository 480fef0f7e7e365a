"""`hotline sip` runs the phone line alone, answers OPTIONS and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.telephony.conftest import free_udp_port

OPTIONS = (
    "OPTIONS sip:1022@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-cli-{n}\r\n"
    "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:1022@127.0.0.1>\r\n"
    "Call-ID: cli-probe\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def test_hotline_sip_answers_options_and_stops_on_sigterm(tmp_path: Path):
    port = free_udp_port()
    src = Path(__file__).resolve().parents[2] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_SIP_RTP_PORT_MIN": "41000",
        "HOTLINE_SIP_RTP_PORT_MAX": "41100",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "sip", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    probe.settimeout(0.5)
    try:
        reply = b""
        deadline = time.monotonic() + 30
        n = 0
        while not reply and time.monotonic() < deadline and proc.poll() is None:
            n += 1
            text = OPTIONS.format(port=probe.getsockname()[1], n=n)
            probe.sendto(text.encode(), ("127.0.0.1", port))
            try:
                reply = probe.recv(65535)
            except TimeoutError:
                continue
        assert reply.startswith(b"SIP/2.0 200 OK"), proc.poll()
        assert b"Allow: INVITE" in reply
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        probe.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
