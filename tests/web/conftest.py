"""A real `hotline serve` on loopback, for what the in-process transport cannot show."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """`hotline serve` on loopback with the given HOTLINE_* settings; yields its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> str:
        port = _free_port()
        import hotline

        src = Path(hotline.__file__).resolve().parents[1]  # the code under test
        environ = {
            **os.environ,
            "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "HOTLINE_DATABASE_URL": database_url,
            "HOTLINE_VAR_DIR": str(tmp_path / "var"),
            **env,
        }
        environ.pop("FORWARDED_ALLOW_IPS", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "serve", "--port", str(port)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("hotline serve did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)
