"""Carrier trunks: the line REGISTERing to a trunk that asks it to, and trunks let in by digest.

A carrier that delivers calls to a registered customer wants a REGISTER with digest
(RFC 3261 §10, §22): the line sends one at start, answers the 401/407 challenge, refreshes
before the binding expires, and after a failure (refused, no answer) tries again every
`retry` seconds until it is registered again. While registered, calls from the registrar's
address are the trunk's: the carrier sends them from where it takes the REGISTERs.

A trunk whose addresses are not known beforehand (a carrier's pool, a branch office) is let
in by digest instead: its INVITE is challenged (401) and admitted with a user name and
password of `trunk_users`. Wrong answers count against the source address as REGISTER
guesses do (guard.py), so the same lockouts stop guessing here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from hotline.netaddr import client_key as address_key
from hotline.telephony.sip.digest import DigestAuth, Verdict, md5, parse_digest
from hotline.telephony.sip.inbound import stable_tag
from hotline.telephony.sip.message import Message, new_branch, new_tag, response_to

if TYPE_CHECKING:
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.sip")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrunkRegistration:
    registrar: tuple[str, int]  # where REGISTERs go (host name or address, port)
    domain: str  # the address-of-record's host: sip:username@domain
    username: str
    password: str
    expires: int = 600  # what we ask for; the registrar may grant less
    retry: float = 30.0  # seconds between attempts after a failure


def digest_response(
    challenge: dict[str, str], *, method: str, uri: str, username: str, password: str
) -> str:
    """The Authorization value answering a Digest challenge (MD5; qop=auth when offered)."""
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    ha1 = md5(f"{username}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    fields = [
        f'username="{username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        "algorithm=MD5",
    ]
    qops = [q.strip() for q in challenge.get("qop", "").split(",")]
    if "auth" in qops:
        cnonce, nc = secrets.token_hex(8), "00000001"
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = md5(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)


def granted_expires(resp: Message, contact_user: str, asked: int) -> int:
    """The seconds the registrar granted our binding: our Contact's `expires`, else the
    Expires header, else what we asked for."""
    for value in resp.get_all("contact"):
        if f"sip:{contact_user}@" in value and "expires=" in value:
            raw = value.split("expires=", 1)[1].split(";")[0].split(">")[0].strip()
            if raw.isdigit():
                return int(raw)
    header = resp.get("expires").strip()
    return int(header) if header.isdigit() else asked


class TrunkRegistrant:
    """Keeps the line registered to one trunk for as long as the line runs."""

    def __init__(self, ua: UserAgent, config: TrunkRegistration) -> None:
        self.ua = ua
        self.config = config
        self.call_id = new_tag() + new_tag()
        self.tag = new_tag()
        self.cseq = 0
        self.registered = False
        self.registrations = 0  # successful REGISTERs (first and refreshes), for tests/metrics
        self.address: tuple[str, int] | None = None  # the registrar, resolved
        self._task: asyncio.Task[None] | None = None

    @property
    def aor(self) -> str:
        return f"sip:{self.config.username}@{self.config.domain}"

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sip-trunk")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.registered:  # leave no binding behind for the carrier to ring
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.register(0), 4.0)
            self.registered = False

    def is_registrar(self, host: str) -> bool:
        return self.registered and self.address is not None and self.address[0] == host

    async def _run(self) -> None:
        while True:
            try:
                granted = await self.register(self.config.expires)
            except OSError as exc:  # the registrar's name does not resolve (yet)
                log.warning(
                    "sip_trunk_unresolved", registrar=self.config.registrar[0], error=str(exc)
                )
                granted = None
            except Exception:  # a bug here must not end the registration for good
                log.exception("sip_trunk_register_crashed", registrar=self.config.registrar[0])
                granted = None
            if granted:
                # Refresh 30 s before expiry (a lost REGISTER is retransmitted meanwhile);
                # bindings shorter than a minute at half their time.
                await asyncio.sleep(max(granted / 2, granted - 30))
            else:
                await asyncio.sleep(self.config.retry)

    async def register(self, expires: int) -> int | None:
        """One REGISTER transaction, answering one challenge; the seconds granted, or None."""
        host, port = self.config.registrar
        if self.address is None or self.address[0] != host:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
            self.address = (str(infos[0][4][0]), port)
        resp = await self.ua.client_request(self._request(expires, ""), self.address)
        if resp is not None and resp.status in (401, 407):
            header = "www-authenticate" if resp.status == 401 else "proxy-authenticate"
            challenge = parse_digest(resp.get(header)) or {}
            answer = digest_response(
                challenge,
                method="REGISTER",
                uri=f"sip:{self.config.domain}",
                username=self.config.username,
                password=self.config.password,
            )
            name = "Authorization" if resp.status == 401 else "Proxy-Authorization"
            resp = await self.ua.client_request(self._request(expires, answer, name), self.address)
        if resp is None or not 200 <= resp.status < 300:
            status = resp.status if resp is not None else "timeout"
            self.registered = False
            log.warning("sip_trunk_register_failed", aor=self.aor, status=status)
            return None
        granted = granted_expires(resp, self.config.username, expires)
        self.registered = expires > 0 and granted > 0
        self.registrations += 1
        log.info("sip_trunk_registered", aor=self.aor, expires=granted)
        return granted

    def _request(self, expires: int, authorization: str, name: str = "Authorization") -> Message:
        self.cseq += 1
        req = Message(method="REGISTER", uri=f"sip:{self.config.domain}")
        req.add("Via", f"SIP/2.0/UDP {self.ua.sent_by};branch={new_branch()};rport")
        req.add("Max-Forwards", "70")
        req.add("From", f"<{self.aor}>;tag={self.tag}")
        req.add("To", f"<{self.aor}>")
        req.add("Call-ID", self.call_id)
        req.add("CSeq", f"{self.cseq} REGISTER")
        req.add("Contact", f"<sip:{self.config.username}@{self.ua.sent_by}>")
        req.add("Expires", str(expires))
        if authorization:
            req.add(name, authorization)
        return req


class TrunkDoor:
    """INVITEs from trunks known by name and password rather than by address."""

    def __init__(self, realm: str, users: dict[str, str], *, nonce_seconds: float) -> None:
        self.auth = DigestAuth(realm, lifetime=nonce_seconds)
        self.ha1 = {user: md5(f"{user}:{realm}:{pw}") for user, pw in users.items()}

    def admit(self, ua: UserAgent, invite: Message, source: tuple[str, int], origin: str) -> bool:
        """Whether the INVITE carries a trunk's right digest; if not, it is answered here:
        401 with a challenge, or 403 (counted as a guess against the origin's address)."""
        key = address_key(origin)
        guard = ua.register_guard
        if self.ha1 and not guard.address_locked(key):
            check = self.auth.check("INVITE", invite.get("authorization"), self.ha1.get)
            if check.verdict is Verdict.OK:
                return True
            if check.verdict in (Verdict.MISSING, Verdict.STALE):
                resp = response_to(invite, 401, "Unauthorized", to_tag=stable_tag(invite.call_id))
                resp.add(
                    "WWW-Authenticate", self.auth.challenge(stale=check.verdict is Verdict.STALE)
                )
                ua.send_response(invite, resp, source)
                return False
            for kind, seconds in guard.failed(None, key):
                ua.log_limited(
                    f"sip_trunk_{kind}_locked_out", source, level="warning", seconds=seconds
                )
        # Toll-fraud guard: only the carrier trunks may place calls.
        ua.log_limited("sip_invite_refused", source, level="warning")
        ua.reply(invite, 403, "Forbidden", source)
        return False


def origin_of(invite: Message, host: str, edges: Sequence[IpNetwork]) -> str:
    """Where a call comes from: the sender, or behind the edge (a sender in `edges`) the
    address the edge names in X-Hotline-Source. The edge drops that header from what it
    receives, so only the edge can set it."""
    if not edges or not within(host, edges):
        return host
    named = invite.get("x-hotline-source").strip()
    try:
        return str(ipaddress.ip_address(named))
    except ValueError:
        return host


def within(host: str, networks: Sequence[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def registration_from(
    *, registrar: str, username: str, password: str, domain: str, expires: int, retry: float
) -> TrunkRegistration | None:
    """The registration the settings ask for (`host[:port]` or `sip:host[:port]`), or None."""
    if not registrar:
        return None
    where = registrar.removeprefix("sip:").split(";")[0]
    if where.startswith("["):  # [v6]:port
        host, _, rest = where[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 5060
    else:
        host, _, raw = where.partition(":")
        port = int(raw) if raw else 5060
    return TrunkRegistration(
        registrar=(host, port),
        domain=domain or host,
        username=username,
        password=password,
        expires=expires,
        retry=retry,
    )
