"""The user agent's settings (built from the HOTLINE_SIP_* settings by the phone line)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotline.telephony.sip.guard import LockoutPolicy
from hotline.telephony.sip.trunk import TrunkRegistration

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Option tags (RFC 3261 §19.2) a request may require of us; 100rel (RFC 3262) is not one.
SUPPORTED: frozenset[str] = frozenset({"timer"})


@dataclass
class UaConfig:
    host: str = "127.0.0.1"
    port: int = 5080
    media_address: str = ""  # what SDP advertises; defaults to host
    rtp_ports: tuple[int, int] = (20000, 20999)
    trunks: Sequence[IpNetwork] = field(
        default_factory=lambda: [ipaddress.ip_network("127.0.0.0/8")]
    )
    max_calls: int = 500
    # A caller whose network died never sends BYE; without these the call (and its port)
    # would sit in the queue forever. 0 turns a limit off.
    rtp_timeout: float = 60.0
    max_call_seconds: float = 7200.0
    # Session timers (RFC 4028): the interval we grant, and the least we accept (422 below).
    session_expires: int = 1800
    min_se: int = 90
    # Operators' phones REGISTER with digest auth in this realm (from anywhere: the digest,
    # not the address, is what lets them in).
    realm: str = "hotline1022"
    nonce_seconds: float = 300.0
    max_expires: int = 3600
    # Digest guessing: failed REGISTERs per SIP user and per source address lock them out.
    register_users: LockoutPolicy = field(default_factory=LockoutPolicy)
    register_addresses: LockoutPolicy = field(
        default_factory=lambda: LockoutPolicy(max_failures=10)
    )
    # OPTIONS (and the 400 for junk) only to the trunks and registered phones: anyone else
    # hears nothing, which is what tells a scanner least. True answers everyone.
    options_answer_all: bool = False
    # Repeated log lines (junk, refused requests, lockouts): one per source per interval.
    log_interval: float = 60.0
    # A carrier trunk the line REGISTERs to (trunk.py), and trunks let in by digest: user
    # name -> password, checked when an INVITE comes from outside `trunks`.
    registration: TrunkRegistration | None = None
    trunk_users: dict[str, str] = field(default_factory=dict)
    # The edge proxies (deploy/edge): their X-Hotline-Source names where a call came from.
    edges: Sequence[IpNetwork] = ()
    # The Route (`<sip:...;lr>`) of every call the line places to the outside (callbacks,
    # bridged transfers): the edge, which anchors the media and hides the line. Empty: sent
    # straight to the callee's address.
    outbound_proxy: str = ""
    # The Retry-After (seconds) of a 503 sent when the line is full.
    retry_after: int = 5

    def __post_init__(self) -> None:
        if not self.media_address:
            self.media_address = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
