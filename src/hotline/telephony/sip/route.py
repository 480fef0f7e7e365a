"""Where a request within a dialog goes (RFC 3261 §12.2.1.1), and the NAT exception."""

from __future__ import annotations

import ipaddress

from hotline.sip_uri import ParseError, SipUri
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
