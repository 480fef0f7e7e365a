"""The line's door on the wire: digest guessing is locked out per SIP user and per source
address, in-dialog requests must carry the dialog's tags, OPTIONS and junk get silence from
strangers, and a flood of junk logs a bounded number of lines."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import secrets
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from hotline.db import create_engine
from hotline.settings import Settings
from hotline.telephony.sip.guard import LockoutPolicy, Lockouts, LogLimiter
from hotline.telephony.sip.message import Message, parse, response_to
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_acd import PASSWORD, QUEUE_TEXTS, add_operator

pytestmark = pytest.mark.anyio
REALM = "hotline1022"
LOCKOUT = 3.0  # long enough that the refusals right after a lockout land inside it


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Peer:
    """A SIP peer on its own UDP socket and source address (blocking; used from threads)."""

    def __init__(self, server_port: int, host: str = "127.0.0.1") -> None:
        self.server = ("127.0.0.1", server_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()
        self.n = 0

    def close(self) -> None:
        self.sock.close()

    def send(self, text: str) -> None:
        self.sock.sendto(text.encode(), self.server)

    def recv(self, seconds: float, wanted: Callable[[Message], bool] = lambda m: True) -> Message:
        """The first message that passes `wanted` within `seconds`; TimeoutError if none."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            message = parse(self.sock.recv(65535))
            if wanted(message):
                return message
        raise TimeoutError

    def silent(self, seconds: float) -> bool:
        try:
            self.recv(seconds)
        except TimeoutError:
            return True
        return False

    @functools.cached_property
    def token(self) -> str:
        """The OS may give a closed peer's port to the next one: without a token of its own,
        its first request would repeat the old one's branch, which the line rightly answers
        as a retransmission (RFC 3261 §17.2.3) with the old answer."""
        return secrets.token_hex(4)

    def request(
        self,
        method: str,
        *,
        call_id: str,
        from_tag: str,
        to_tag: str = "",
        to_user: str = "1022",
        extra: str = "",
        body: str = "",
        contact: str = "",
    ) -> str:
        self.n += 1
        tag = f";tag={to_tag}" if to_tag else ""
        contact = contact or f"sip:{to_user}@{self.host}:{self.port}"
        return (
            f"{method} sip:{to_user}@{self.server[0]}:{self.server[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.host}:{self.port};"
            f"branch=z9hG4bK-{method}-{self.n}-{self.port}-{self.token}\r\n"
            f"From: <sip:{to_user}@{self.host}>;tag={from_tag}\r\n"
            f"To: <sip:{to_user}@{self.server[0]}>{tag}\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {self.n} {method}\r\n"
            f"Contact: <{contact}>\r\nMax-Forwards: 70\r\n"
            f"{extra}Content-Length: {len(body)}\r\n\r\n{body}"
        )

    def register(
        self, user: str, password: str, extra: str = "", contact: str = "", call_id: str = ""
    ) -> int:
        """REGISTER as `user`: the status of the final answer (after the 401 challenge)."""
        return self.register_answer(user, password, extra, contact, call_id).status

    def register_answer(
        self, user: str, password: str, extra: str = "", contact: str = "", call_id: str = ""
    ) -> Message:
        """REGISTER as `user` (`extra` headers, another `contact`, a phone's own Call-ID):
        the final answer."""
        call_id = call_id or f"reg-{user}-{self.host}-{self.port}-{self.n}-{self.token}"
        more = {"to_user": user, "extra": extra, "contact": contact}
        self.send(self.request("REGISTER", call_id=call_id, from_tag="r", **more))
        challenge = self.recv(2, lambda m: m.status >= 200)
        if challenge.status != 401:
            return challenge  # no challenge at all: locked out
        nonce = challenge.get("www-authenticate").split('nonce="')[1].split('"')[0]
        uri = f"sip:{self.server[0]}:{self.server[1]}"
        ha1 = md5(f"{user}:{REALM}:{password}")
        response = md5(f"{ha1}:{nonce}:00000001:c0ffee:auth:{md5('REGISTER:' + uri)}")
        auth = (
            f'Authorization: Digest username="{user}", realm="{REALM}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc=00000001, '
            'cnonce="c0ffee"\r\n'
        )
        more["extra"] = extra + auth
        self.send(self.request("REGISTER", call_id=call_id, from_tag="r", **more))
        return self.recv(2, lambda m: m.status >= 200)


async def register(line: Line, user: str, password: str, host: str = "127.0.0.1") -> int:
    peer = Peer(line.port, host)
    try:
        return await asyncio.to_thread(peer.register, user, password)
    finally:
        peer.close()


async def start_guarded(settings: Settings, **overrides: object) -> Line:
    """The line with short lockout settings and operator op1 (SIP login loaded)."""
    values: dict[str, object] = {
        "sip_agent_poll_seconds": 0.2,
        "sip_register_max_failures": 3,
        "sip_register_max_failures_per_address": 6,
        "sip_register_lockout_seconds": LOCKOUT,
    }
    running = await start_line(line_settings(settings, **values | overrides), texts=QUEUE_TEXTS)
    await add_operator(settings)
    ua = running.phone.ua
    assert ua is not None
    for _ in range(100):  # the line's poll loads op1's SIP login
        if "op1" in ua.credentials:
            break
        await asyncio.sleep(0.05)
    return running


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[Line]:
    running = await start_guarded(settings)
    yield running
    await running.phone.stop()


async def test_guessing_a_users_password_locks_the_user_out_from_every_address(guarded: Line):
    with capture_logs() as logs:
        for _ in range(3):
            assert await register(guarded, "op1", "guess-123") == 403
        # Locked out: the right password is refused, from this address and from another.
        assert await register(guarded, "op1", PASSWORD) == 403
        assert await register(guarded, "op1", PASSWORD, host="127.0.0.2") == 403
    [lockout] = [e for e in logs if e["event"] == "sip_register_user_locked_out"]
    assert (lockout["user"], lockout["source"], lockout["seconds"]) == ("op1", "127.0.0.1", LOCKOUT)
    await asyncio.sleep(LOCKOUT + 0.2)
    assert await register(guarded, "op1", PASSWORD, host="127.0.0.2") == 200


async def test_one_address_spraying_user_names_is_locked_out(guarded: Line):
    for n in range(6):
        assert await register(guarded, f"user{n}", "guess-123", host="127.0.0.3") == 403
    # op1 itself never failed, but this address is locked out; from elsewhere op1 registers.
    assert await register(guarded, "op1", PASSWORD, host="127.0.0.3") == 403
    assert await register(guarded, "op1", PASSWORD, host="127.0.0.4") == 200


async def test_a_successful_registration_clears_the_users_failures(guarded: Line):
    for _ in range(2):
        assert await register(guarded, "op1", "guess-123") == 403
    assert await register(guarded, "op1", PASSWORD) == 200
    for _ in range(2):
        assert await register(guarded, "op1", "guess-123") == 403
    assert await register(guarded, "op1", PASSWORD) == 200  # 4 failures, but never 3 in a row


async def test_a_success_clears_the_failures_before_it_when_the_database_is_slow(
    guarded: Line, settings: Settings
):
    """Past the line's wait for the database, the memory counts answer and the shared counts
    are written late: the success's clear must still land between the failures before it
    and those after, or a user who never failed 3 times in a row is locked out."""
    ua = guarded.phone.ua
    assert ua is not None
    assert await register(guarded, "op1", "guess-123") == 403
    await _until(lambda: not ua._tasks)  # the first failure is counted in the database
    async with held_count(settings.effective_database_url, "user:op1"):
        # The second failure's write waits for the holder: the REGISTER is answered from
        # the memory counts meanwhile, and the success's clear comes to wait beside it.
        assert await register(guarded, "op1", "guess-123") == 403
        assert await register(guarded, "op1", PASSWORD) == 200
    for _ in range(2):
        assert await register(guarded, "op1", "guess-123") == 403
    await _until(lambda: not ua._tasks)  # every late write has landed
    assert await register(guarded, "op1", PASSWORD) == 200


async def _until(check: Callable[[], bool], seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "still waiting"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def held_count(url: str, key: str) -> AsyncIterator[None]:
    """Another writer holding the shared count `key` (on SQLite, the database's write lock;
    on PostgreSQL, the count's row), so that the line's writes of it wait."""
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        assert database is not None
        lock = sqlite3.connect(database, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lock.execute("COMMIT")
            lock.close()
        return
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT key FROM sip_lockout WHERE key = :key FOR UPDATE"), {"key": key}
            )
            yield
    finally:
        await engine.dispose()


async def test_the_phone_registered_as_a_locked_out_user_keeps_refreshing(guarded: Line):
    """Guesses from elsewhere must not knock the operator's own phone off the line."""
    phone = Peer(guarded.port)
    try:
        assert await asyncio.to_thread(phone.register, "op1", PASSWORD) == 200
        for _ in range(3):
            assert await register(guarded, "op1", "guess-123", host="127.0.0.2") == 403
        assert await register(guarded, "op1", PASSWORD, host="127.0.0.2") == 403
        assert await asyncio.to_thread(phone.register, "op1", PASSWORD) == 200
    finally:
        phone.close()


async def test_an_address_lockout_does_not_knock_the_registered_phone_off(guarded: Line):
    """Phones behind one NAT share an address: a sprayer there (or a spoofed source) must
    not lock out the phone already registered from it."""
    phone = Peer(guarded.port, host="127.0.0.5")
    try:
        assert await asyncio.to_thread(phone.register, "op1", PASSWORD) == 200
        for n in range(6):
            assert await register(guarded, f"ghost{n}", "guess-123", host="127.0.0.5") == 403
        assert await register(guarded, "op1", PASSWORD, host="127.0.0.5") == 403  # a newcomer
        assert await asyncio.to_thread(phone.register, "op1", PASSWORD) == 200
    finally:
        phone.close()


async def test_made_up_user_names_cannot_push_a_real_users_count_out(settings: Settings):
    line = await start_guarded(settings, sip_register_lockout_table_size=10)
    try:
        for _ in range(2):
            assert await register(line, "op1", "guess-123") == 403
        # 40 names nobody has, 4 per address (under the per-address lockout).
        for n in range(40):
            host = f"127.0.2.{n // 4 + 1}"
            assert await register(line, f"ghost{n}", "guess-123", host=host) == 403
        assert await register(line, "op1", "guess-123", host="127.0.0.6") == 403
        # The third failure locked op1 out: the right password is refused.
        assert await register(line, "op1", PASSWORD, host="127.0.0.7") == 403
    finally:
        await line.phone.stop()


def test_lockouts_grow_and_are_forgotten_after_a_quiet_spell():
    now = [0.0]
    policy = LockoutPolicy(max_failures=2, window=60, lockout=10, max_lockout=40)
    lockouts = Lockouts(policy, clock=lambda: now[0])
    assert [lockouts.fail("op1"), lockouts.fail("op1")] == [0, 10]
    assert lockouts.remaining("op1") == 10
    lengths = []
    for _ in range(3):
        now[0] += 50
        lockouts.fail("op1")
        lengths.append(lockouts.fail("op1"))
    assert lengths == [20, 40, 40]  # doubling, capped
    now[0] += 1000  # long after the last lockout: a first offence again
    lockouts.fail("op1")
    assert lockouts.fail("op1") == 10
    lockouts.clear("op1")
    assert lockouts.remaining("op1") == 0


def test_lockout_table_stays_bounded_and_keeps_locked_keys():
    lockouts = Lockouts(LockoutPolicy(max_failures=2), max_keys=10)
    lockouts.fail("op1")
    lockouts.fail("op1")
    for n in range(1000):  # a spray of user names, one guess each
        lockouts.fail(f"user{n}")
    assert len(lockouts) <= 10
    assert lockouts.remaining("op1") > 0


def test_log_limiter_counts_what_it_holds_back():
    now = [0.0]
    limiter = LogLimiter(10, clock=lambda: now[0], max_keys=2)
    key = ("sip_malformed", "192.0.2.1")
    assert limiter.allow(key) == 0
    assert [limiter.allow(key) for _ in range(5)] == [None] * 5
    now[0] = 11
    assert limiter.allow(key) == 5
    limiter.allow(key)
    assert limiter.allow(("sip_malformed", "192.0.2.2")) == 0
    # Beyond max_keys new sources share one key: still a bounded number of lines.
    assert limiter.allow(("sip_malformed", "192.0.2.3")) == 0
    assert limiter.allow(("sip_malformed", "192.0.2.4")) is None
    now[0] = 30
    assert (key, 1) in limiter.flush()


# -- in-dialog requests must match the dialog ---------------------------------------------


def offer(rtp_port: int) -> str:
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    )


class Caller(Peer):
    def __init__(self, server_port: int) -> None:
        super().__init__(server_port)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.to_tag = ""

    def close(self) -> None:
        super().close()
        self.rtp.close()

    def call(self) -> None:
        """INVITE, 200 OK, ACK: an answered call in the menu."""
        sdp = offer(self.rtp.getsockname()[1])
        extra = "Content-Type: application/sdp\r\n"
        self.send(
            self.request("INVITE", call_id="guard-call", from_tag="caller", extra=extra, body=sdp)
        )
        ok = self.recv(3, lambda m: m.status == 200)
        self.to_tag = ok.to_addr.tag
        self.send(self.request("ACK", call_id="guard-call", from_tag="caller", to_tag=self.to_tag))

    def in_dialog(self, method: str, **kw: str) -> str:
        return self.request(
            method, call_id="guard-call", from_tag="caller", to_tag=self.to_tag, **kw
        )

    def rtp_packets(self, seconds: float) -> int:
        self.rtp.settimeout(0.1)
        count, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                self.rtp.recv(2048)
                count += 1
        return count


DIGIT = "Content-Type: application/dtmf-relay\r\n"


async def test_bye_or_info_with_the_call_id_but_wrong_tags_gets_481_and_the_call_goes_on(
    settings: Settings,
):
    # A long digit timeout: the menu is still waiting for a key when the caller presses 4.
    line = await start_line(line_settings(settings, sip_digit_timeout=5.0))
    caller, stranger = Caller(line.port), Peer(line.port, host="127.0.0.2")
    try:
        await asyncio.to_thread(caller.call)
        tag = caller.to_tag
        forged = [
            # A key press from elsewhere: the right Call-ID and the caller's tag, a wrong To tag.
            stranger.request(
                "INFO",
                call_id="guard-call",
                from_tag="caller",
                to_tag="x" + tag,
                extra=DIGIT,
                body="Signal=2\r\nDuration=160\r\n",
            ),
            stranger.request("BYE", call_id="guard-call", from_tag="not-caller", to_tag=tag),
            stranger.request("BYE", call_id="guard-call", from_tag="caller", to_tag="x" + tag),
            stranger.request("BYE", call_id="guard-call", from_tag="caller"),
            stranger.request(
                "NOTIFY",
                call_id="guard-call",
                from_tag="x",
                to_tag=tag,
                extra="Event: refer\r\n",
                body="SIP/2.0 200 OK\r\n",
            ),
            stranger.request("UPDATE", call_id="guard-call", from_tag="x", to_tag=tag),
        ]
        for text in forged:
            stranger.send(text)
            answer = await asyncio.to_thread(stranger.recv, 2, lambda m: m.status >= 200)
            assert answer.status == 481, text
        # The call is still up: the line's RTP keeps coming.
        assert await asyncio.to_thread(caller.rtp_packets, 0.5) > 10
        # The caller's own key press counts and their own BYE ends the call.
        caller.send(caller.in_dialog("INFO", extra=DIGIT, body="Signal=4\r\nDuration=160\r\n"))
        ok = await asyncio.to_thread(caller.recv, 2, lambda m: m.cseq[1] == "INFO")
        assert ok.status == 200
        await asyncio.sleep(0.3)
        caller.send(caller.in_dialog("BYE"))
        ok = await asyncio.to_thread(caller.recv, 2, lambda m: m.cseq[1] == "BYE")
        assert ok.status == 200
        [call] = await line.calls()
        assert (call.menu_path, call.branch) == ("4", "operator")  # not the forged 2
    finally:
        caller.close()
        stranger.close()
        await line.phone.stop()


async def test_a_forged_bye_does_not_cut_the_operators_leg(settings: Settings, guarded: Line):
    phone, caller = Peer(guarded.port), Caller(guarded.port)
    stranger = Peer(guarded.port, host="127.0.0.2")
    phone_rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone_rtp.bind(("127.0.0.1", 0))
    try:
        assert await asyncio.to_thread(phone.register, "op1", PASSWORD) == 200
        await asyncio.to_thread(caller.call)
        caller.send(caller.in_dialog("INFO", extra=DIGIT, body="Signal=4\r\nDuration=160\r\n"))
        await asyncio.to_thread(caller.recv, 2, lambda m: m.cseq[1] == "INFO")
        invite = await asyncio.to_thread(phone.recv, 5, lambda m: m.method == "INVITE")
        ok = response_to(invite, 200, "OK", to_tag="phone")
        ok.add("Contact", f"<sip:op1@127.0.0.1:{phone.port}>")
        ok.add("Content-Type", "application/sdp")
        ok.body = offer(phone_rtp.getsockname()[1]).encode()
        phone.send(ok.serialise().decode())
        await asyncio.to_thread(phone.recv, 2, lambda m: m.method == "ACK")
        call_id, ours = invite.call_id, invite.from_addr.tag
        for from_tag, to_tag in (("not-phone", ours), ("phone", "x" + ours)):
            stranger.send(
                stranger.request("BYE", call_id=call_id, from_tag=from_tag, to_tag=to_tag)
            )
            answer = await asyncio.to_thread(stranger.recv, 2, lambda m: m.status >= 200)
            assert answer.status == 481
        # Still bridged: the caller hears no BYE; the operator's own BYE ends it.
        assert await asyncio.to_thread(caller.silent, 0.5)
        bye = phone.request("BYE", call_id=call_id, from_tag="phone", to_tag=ours)
        phone.send(bye.replace("From: <sip:1022@", "From: <sip:op1@"))
        assert (await asyncio.to_thread(phone.recv, 2, lambda m: m.status >= 200)).status == 200
        line_bye = await asyncio.to_thread(caller.recv, 3, lambda m: m.method == "BYE")
        caller.send(response_to(line_bye, 200, "OK").serialise().decode())
        [call] = await guarded.calls()
        assert call.outcome is not None and call.outcome.value == "answered"
    finally:
        for peer in (phone, caller, stranger):
            peer.close()
        phone_rtp.close()


# -- OPTIONS and junk -----------------------------------------------------------------------


def options(peer: Peer) -> str:
    return peer.request("OPTIONS", call_id=f"probe-{peer.host}-{peer.port}", from_tag="p")


async def test_options_is_answered_to_trunks_and_registered_phones_only(settings: Settings):
    line = await start_guarded(settings, sip_trunk_networks=["127.0.0.1/32"])
    outsider = Peer(line.port, host="127.0.0.2")
    trunk = Peer(line.port)
    try:
        outsider.send(options(outsider))
        assert await asyncio.to_thread(outsider.silent, 1.0)
        # Junk from a stranger gets no 400 either.
        outsider.send(options(outsider).replace("CSeq: 2 OPTIONS", "CSeq: x OPTIONS"))
        assert await asyncio.to_thread(outsider.silent, 0.5)
        trunk.send(options(trunk))
        assert (await asyncio.to_thread(trunk.recv, 2)).status == 200
        # Once a phone has registered from that address, it is answered.
        assert await asyncio.to_thread(outsider.register, "op1", PASSWORD) == 200
        outsider.send(options(outsider))
        assert (await asyncio.to_thread(outsider.recv, 2)).status == 200
    finally:
        outsider.close()
        trunk.close()
        await line.phone.stop()


async def test_options_to_everyone_when_configured(settings: Settings):
    line = await start_line(
        line_settings(settings, sip_trunk_networks=["127.0.0.1/32"], sip_options_answer_all=True)
    )
    outsider = Peer(line.port, host="127.0.0.2")
    try:
        outsider.send(options(outsider))
        assert (await asyncio.to_thread(outsider.recv, 2)).status == 200
    finally:
        outsider.close()
        await line.phone.stop()


async def test_a_flood_of_junk_logs_a_bounded_number_of_lines(line: Line):
    peer = Peer(line.port)
    try:
        with capture_logs() as logs:
            for n in range(1000):
                peer.send(f"junk {n} \x00\xff not SIP at all")
                if n % 100 == 99:
                    await asyncio.sleep(0.01)  # let the line read: the socket buffer is finite
            peer.send(options(peer))  # answered once every datagram before it was read
            assert (await asyncio.to_thread(peer.recv, 5)).status == 200
        malformed = [e for e in logs if e["event"] == "sip_malformed"]
        assert 1 <= len(malformed) <= 2, len(malformed)
        assert malformed[0]["source"] == "127.0.0.1"
    finally:
        peer.close()
