"""Where a request within a dialog goes (RFC 3261 §12.2.1.1), the NAT exception, and where a
call the line places is sent (a pre-loaded Route: a phone's Path, the outbound proxy)."""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

from hotline.sip_uri import ParseError, SipUri, parse_uri
from hotline.telephony.sip.message import parse_address


def dialog_request(route_set: list[str], remote_target: SipUri) -> tuple[str, list[str], SipUri]:
    """(Request-URI, Route headers, next hop) for the route set and remote target.

    Loose routing (the first route has `lr`): the Request-URI is the remote target and the
    route set goes in Route. Strict routing (an RFC 2543 proxy): the first route becomes the
    Request-URI, and the remote target ends the Route list."""
    if not route_set:
        return str(remote_target), [], remote_target
    first = parse_address(route_set[0]).uri
    if "lr" in first.params:
        return str(remote_target), list(route_set), first
    return str(first), [*route_set[1:], f"<{remote_target}>"], first


def next_hop(uri: SipUri, routed: bool, source: tuple[str, int]) -> tuple[str, int]:
    """The address of `uri`, else `source` (where the dialog's peer sends from).

    No resolver runs here, so a host name falls back to `source`. So does a private address
    in the peer's own Contact (no route set) that is not the address it sends from: the
    peer is behind NAT and only its public address and port, the one its INVITE came from
    (RFC 3581's `received`/`rport`), reach it."""
    host = uri.host.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return source
    if not routed and host != source[0] and (ip.is_private or ip.is_unspecified):
        return source
    return host, uri.port or 5060


def hop_of(route_set: list[str], remote_target: SipUri, source: tuple[str, int]) -> tuple[str, int]:
    try:
        _, _, hop = dialog_request(route_set, remote_target)
    except ParseError:
        return source
    return next_hop(hop, bool(route_set), source)


class Reach(NamedTuple):
    """Where a call the line places goes: its Request-URI, the address the INVITE is sent
    to, and the Route set it carries from the start (RFC 3261 §8.1.2: a phone's Path
    (RFC 3327) when it registered through the edge, or the outbound proxy)."""

    target: str
    hop: tuple[str, int]
    route: tuple[str, ...] = ()


def ip_hop(uri: SipUri) -> tuple[str, int] | None:
    """The address of a URI whose host is an IP address (no resolver runs in the line)."""
    host = uri.host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host, uri.port or 5060


def routed(target: str, route: tuple[str, ...]) -> Reach | None:
    """`target` through the pre-loaded `route`: sent to the first route's address. None if
    that is not an IP address, or the first route is not a loose router (only those are
    pre-loaded: a Path's and an outbound proxy's carry `lr`)."""
    try:
        first = parse_address(route[0]).uri
        parse_uri(target)
    except (ParseError, IndexError):
        return None
    if "lr" not in first.params:
        return None
    hop = ip_hop(first)
    return Reach(target, hop, route) if hop is not None else None


def outside(target: str, proxy: str = "") -> Reach | None:
    """A call to the outside world (a citizen called back, a destination bridged): through
    the outbound proxy (the edge) when one is set, else straight to the target's address."""
    if proxy:
        return routed(target, (proxy,))
    try:
        hop = ip_hop(parse_uri(target))
    except ParseError:
        return None
    return Reach(target, hop) if hop is not None else None


def proxy_route(uri: str) -> str:
    """The Route header naming an outbound proxy given as a SIP URI (`sip:10.0.0.5:5060`):
    a loose router, so the Request-URI stays the callee. Empty stays empty."""
    uri = uri.strip().strip("<>")
    if not uri:
        return ""
    parsed = parse_uri(uri)  # ParseError for a malformed one: the settings refuse it
    if ip_hop(parsed) is None:
        raise ParseError(f"the outbound proxy must be an IP address: {uri}")
    return f"<{uri}>" if "lr" in parsed.params else f"<{uri};lr>"
