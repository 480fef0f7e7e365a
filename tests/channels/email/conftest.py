"""Real mail servers on loopback: a private Dovecot (IMAP, STARTTLS and IMAPS) started once per
session from its own configuration in a temporary directory, and an aiosmtpd receiver in a
thread that answers what the test tells it to (250, 451, 550)."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.conftest import missing_tool

USER = "hotline@hotline.test"
PASSWORD = 'se"cret \\ pass'  # a quote, a backslash and a space: quoted on the wire
SMTP_USER = "sender"
SMTP_PASSWORD = "smtp-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not listen in time")


@dataclass(frozen=True)
class TLSFiles:
    cert: str
    key: str


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    if shutil.which("openssl") is None:
        missing_tool("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return TLSFiles(cert=str(cert), key=str(key))


@dataclass(frozen=True)
class Dovecot:
    port: int  # plain, STARTTLS offered
    ssl_port: int  # implicit TLS
    root: Path
    ca_file: str

    def settings(self, folder: str = "INBOX", **extra: Any) -> dict[str, Any]:
        return {
            "address": USER,
            "imap_host": "127.0.0.1",
            "imap_port": self.port,
            "imap_security": "none",
            "username": USER,
            "password": PASSWORD,
            "folder": folder,
            "smtp_host": "127.0.0.1",
            "smtp_port": 1,
            "smtp_security": "none",
            "timeout": 10,
            **extra,
        }

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """The test's own IMAP client (the stdlib's, not the one under test)."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            imap.login(USER, PASSWORD)
            yield imap
        finally:
            with contextlib.suppress(Exception):
                imap.logout()

    def append(self, folder: str, raw: bytes) -> None:
        with self.client() as imap:
            status, _ = imap.append(folder, None, None, raw)
            assert status == "OK"

    def new_folder(self) -> str:
        name = "T" + uuid.uuid4().hex[:10]
        with self.client() as imap:
            assert imap.create(name)[0] == "OK"
        return name


@pytest.fixture(scope="session")
def dovecot(tls_files: TLSFiles) -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if not binary:
        missing_tool("dovecot is not installed (make debian-test-deps installs dovecot-imapd)")
    # Not under pytest's 0700 temp root: Dovecot's own unprivileged users must reach it.
    root = Path(tempfile.mkdtemp(prefix="hotline-dovecot-"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    shutil.copy(tls_files.cert, root / "cert.pem")
    shutil.copy(tls_files.key, root / "key.pem")
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    if os.geteuid() == 0:
        # As root (CI, this container): the Debian package's users, as a real install runs.
        internal, login, mail_user = "dovecot", "dovenull", "dovecot"
        owner = pwd.getpwnam(mail_user)
        for path in [root, *root.rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    else:
        internal = login = mail_user = pwd.getpwuid(os.getuid()).pw_name
    port, ssl_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = hotline-test-{root.name}
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
""",
        encoding="utf-8",
    )
    log = root / "dovecot.log"
    process = subprocess.Popen(
        [binary, "-c", str(conf), "-F"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for_port(port, process, log)
        _wait_for_port(ssl_port, process, log)
        yield Dovecot(port=port, ssl_port=ssl_port, root=root, ca_file=tls_files.cert)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly the bytes of the DATA phase


@dataclass
class SMTPHandler:
    """Answers RCPT and DATA from queues the test fills; 250 when a queue is empty."""

    received: list[Received] = field(default_factory=list)
    rcpt_answers: list[str] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        answer = self.rcpt_answers.pop(0) if self.rcpt_answers else "250 OK"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        answer = self.data_answers.pop(0) if self.data_answers else "250 Message accepted"
        if answer.startswith("250"):
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return answer


@dataclass(frozen=True)
class SMTPServer:
    handler: SMTPHandler
    port: int


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture(scope="session")
def smtp_servers(tls_files: TLSFiles) -> Iterator[dict[str, SMTPServer]]:
    """A plain receiver, and one that requires STARTTLS and a login."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(tls_files.cert, tls_files.key)
    servers: dict[str, SMTPServer] = {}
    controllers = []
    for name, extra in (
        ("plain", {}),
        (
            "starttls",
            {
                "tls_context": tls,
                "require_starttls": True,
                "authenticator": _authenticator,
                "auth_required": True,
            },
        ),
    ):
        handler = SMTPHandler()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **extra)
        controller.start()
        controllers.append(controller)
        servers[name] = SMTPServer(handler=handler, port=port)
    try:
        yield servers
    finally:
        for controller in controllers:
            controller.stop()


@pytest.fixture
def smtp(smtp_servers: dict[str, SMTPServer]) -> SMTPServer:
    server = smtp_servers["plain"]
    server.handler.received.clear()
    server.handler.rcpt_answers.clear()
    server.handler.data_answers.clear()
    return server
