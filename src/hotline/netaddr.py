"""Client addresses as throttles and lockouts count them."""

from __future__ import annotations

import ipaddress


def client_key(address: str) -> str:
    """The counted identity of a client address: IPv4 as it is, IPv6 by its /64 (one
    subscriber is usually handed a whole /64 and could otherwise rotate through it), an
    IPv4-mapped IPv6 address as its IPv4 address; anything else cut to 64 characters."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) + "/64"
    return str(ip)
