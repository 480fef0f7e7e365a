"""Start a server command as a subprocess, wait until it answers, stop it cleanly.

The command is data (a shell string), so the same helper runs the baseline and the
product without importing either.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from common import REPO_ROOT


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Server:
    """Context manager around one server process group.

    start_new_session puts uvicorn's master and its workers in their own process group,
    so stopping kills the whole tree rather than orphaning workers that keep the port.
    """

    def __init__(
        self,
        cmd: str,
        url: str,
        *,
        env: dict[str, str] | None = None,
        cwd: Path = REPO_ROOT,
        log_path: Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        parts = urlsplit(url)
        self.cmd = cmd
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.cwd = cwd
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.env = dict(os.environ)
        # Make `uvicorn ...` resolve to the interpreter running the harness (its venv).
        bindir = str(Path(sys.executable).parent)
        self.env["PATH"] = bindir + os.pathsep + self.env.get("PATH", "")
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = None

    def start(self) -> None:
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} already in use; refusing to measure a stranger")
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.cmd,
            shell=True,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode} before listening: {self.cmd}"
                    + (f" (log: {self.log_path})" if self.log_path else "")
                )
            if port_open(self.host, self.port):
                # A listening socket appears before every worker finished its lifespan
                # startup; a short grace keeps warm-up from hitting a half-ready pool.
                time.sleep(0.5)
                return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server did not listen on {self.port} within {self.start_timeout}s")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        except ProcessLookupError:
            pass
        # Workers may outlive the shell/master briefly; wait for the port to free up so
        # the next run does not fail its "port in use" check.
        deadline = time.monotonic() + timeout
        while port_open(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self.proc = None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the processes of the server's group."""
        if self.proc is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            # After the command: state, ppid, pgrp, ..., utime (12th), stime (13th).
            if int(fields[2]) == self.proc.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a server until Ctrl-C (for manual probing).")
    parser.add_argument("--cmd", required=True, help="shell command starting the server")
    parser.add_argument("--url", required=True, help="URL whose host:port to wait for")
    args = parser.parse_args()
    with Server(args.cmd, args.url):
        print(f"listening: {args.url} (Ctrl-C to stop) <- {shlex.quote(args.cmd)}")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
