"""SIP digest authentication (RFC 2617 / RFC 7616 with MD5, qop=auth) and the registrar.

Hand-written: the Python digest code that exists (urllib, httpx) is the *client* side, and
the server side is a few hashes. Nonces are stateless: a timestamp signed with a secret the
process draws at start, so an old nonce is recognised (and answered `stale=true`, letting
the phone retry without asking its user) and a forged one is refused. Within a nonce's
lifetime a captured REGISTER could be replayed; that only refreshes the same binding.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def parse_digest(value: str) -> dict[str, str] | None:
    """The parameters of `Authorization: Digest k=v, k="v"`, or None if it is not Digest."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for match in PARAM.finditer(rest):
        key, raw = match.group(1).lower(), match.group(2)
        if raw.startswith('"'):
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[key] = raw
    return params


class Verdict(Enum):
    OK = "ok"
    MISSING = "missing"  # no (usable) credentials: challenge
    STALE = "stale"  # right password, expired nonce: challenge with stale=true
    UNKNOWN_USER = "unknown_user"
    WRONG = "wrong"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    username: str = ""


class DigestAuth:
    def __init__(
        self, realm: str, *, lifetime: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.realm = realm
        self.lifetime = lifetime
        self.clock = clock
        self._secret = secrets.token_bytes(32)

    def nonce(self) -> str:
        stamp = f"{int(self.clock()):x}.{secrets.token_hex(4)}"
        return f"{stamp}.{self._sign(stamp)}"

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]

    def challenge(self, *, stale: bool = False) -> str:
        value = f'Digest realm="{self.realm}", nonce="{self.nonce()}", algorithm=MD5, qop="auth"'
        return value + (", stale=true" if stale else "")

    def _nonce_state(self, nonce: str) -> Verdict:
        stamp, _, signature = nonce.rpartition(".")
        if not stamp or not hmac.compare_digest(signature, self._sign(stamp)):
            return Verdict.MISSING  # not ours (or from before a restart): a fresh challenge
        try:
            issued = int(stamp.split(".")[0], 16)
        except ValueError:
            return Verdict.MISSING
        return Verdict.OK if self.clock() - issued <= self.lifetime else Verdict.STALE

    def check(self, method: str, authorization: str, ha1_for: Callable[[str], str | None]) -> Check:
        params = parse_digest(authorization) if authorization else None
        if not params or not all(k in params for k in ("username", "nonce", "uri", "response")):
            return Check(Verdict.MISSING)
        if params.get("realm", "") != self.realm:
            return Check(Verdict.MISSING)
        if params.get("algorithm", "MD5").upper() != "MD5":
            return Check(Verdict.MISSING)
        username = params["username"]
        ha1 = ha1_for(username)
        if ha1 is None:
            return Check(Verdict.UNKNOWN_USER, username)
        ha2 = md5(f"{method}:{params['uri']}")
        qop = params.get("qop", "")
        if qop == "auth":
            nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
            expected = md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        elif not qop:
            expected = md5(f"{ha1}:{params['nonce']}:{ha2}")  # RFC 2069 style
        else:
            return Check(Verdict.MISSING)
        if not hmac.compare_digest(expected, params["response"].lower()):
            return Check(Verdict.WRONG, username)
        state = self._nonce_state(params["nonce"])
        return Check(state, username) if state is not Verdict.OK else Check(Verdict.OK, username)


@dataclass
class Binding:
    contact: str  # the phone's Contact URI
    source: tuple[str, int]  # where its REGISTER came from: where we send its INVITEs
    expires_at: float  # loop time
    # The edge's Path (RFC 3327) when the phone registered through it: its INVITEs carry it
    # as their Route and go to its first hop, the edge, which holds the phone's connection.
    path: tuple[str, ...] = ()
    # Who registered it, in memory only (not in the database's copy): the phone's own
    # address (behind the edge, the one the edge names) and its REGISTERs' Call-ID, which a
    # phone keeps for all its registrations until it restarts (RFC 3261 §10.2.4). Together
    # they recognise the phone coming back on a new port (register.py).
    origin: str = ""
    call_id: str = ""


def _same_place(a: Binding, b: Binding) -> bool:
    return (a.contact, a.source, a.path) == (b.contact, b.source, b.path)


class Registrar:
    """Where each operator's phone is, in memory: one binding per SIP user, the latest.

    The line keeps a copy in the database (telephony/registrations.py): `on_change` hears of
    each REGISTER's binding or removal, and `merge` takes in what the database holds (at
    start, and what other instances sharing it have taken since).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.bindings: dict[str, Binding] = {}
        # When each user's binding was last changed by a REGISTER here (clock time): the
        # database's copy may not have caught up with it yet.
        self.changed_at: dict[str, float] = {}
        self.on_change: Callable[[str], None] | None = None

    def bind(
        self,
        username: str,
        contact: str,
        source: tuple[str, int],
        expires: int,
        path: tuple[str, ...] = (),
        *,
        origin: str = "",
        call_id: str = "",
    ) -> None:
        if expires <= 0:
            self.bindings.pop(username, None)
        else:
            expires_at = self.clock() + expires
            self.bindings[username] = Binding(contact, source, expires_at, path, origin, call_id)
        self._changed(username)

    def unbind(self, username: str) -> None:
        self.bindings.pop(username, None)
        self._changed(username)

    def _changed(self, username: str) -> None:
        self.changed_at[username] = self.clock()
        if self.on_change is not None:
            self.on_change(username)

    def merge(self, stored: dict[str, Binding], *, read_at: float, settle: float) -> None:
        """Take the database's bindings (`expires_at` already on this clock), read at
        `read_at`: a user changed here less than `settle` seconds before the read keeps
        ours (its write may not have landed); any other takes the stored one, or none."""
        now = self.clock()
        for username in set(stored) | set(self.bindings):
            if self.changed_at.get(username, -float("inf")) >= read_at - settle:
                continue
            binding = stored.get(username)
            if binding is None or binding.expires_at <= now:
                self.bindings.pop(username, None)
                continue
            ours = self.bindings.get(username)
            if ours is not None and _same_place(ours, binding):  # who registered it stays known
                binding = replace(binding, origin=ours.origin, call_id=ours.call_id)
            self.bindings[username] = binding

    def lookup(self, username: str) -> Binding | None:
        binding = self.bindings.get(username)
        if binding is not None and binding.expires_at <= self.clock():
            del self.bindings[username]
            return None
        return binding

    def has_source(self, host: str) -> bool:
        """Whether a live registration came from this address."""
        now = self.clock()
        return any(b.source[0] == host and b.expires_at > now for b in self.bindings.values())

    def remaining(self, username: str) -> int:
        binding = self.lookup(username)
        return max(0, int(binding.expires_at - self.clock())) if binding else 0
