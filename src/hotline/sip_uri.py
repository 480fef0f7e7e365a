"""SIP URIs (RFC 3261 §19.1): how the phone line reads them, and how the phone configuration
checks the addresses typed into it. Below both, so neither needs the other for this."""

from __future__ import annotations

from dataclasses import dataclass, field


class ParseError(ValueError):
    """The text is not a SIP message or URI we can act on."""


@dataclass
class SipUri:
    scheme: str
    user: str
    host: str
    port: int | None
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params.items())
        return f"{self.scheme}:{user}{self.host}{port}{params}"


def parse_uri(text: str) -> SipUri:
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    if not sep or scheme.lower() not in ("sip", "sips", "tel"):
        raise ParseError(f"not a SIP URI: {text[:60]!r}")
    rest = rest.split("?", 1)[0]
    main, *raw_params = rest.split(";")
    params = {}
    for p in raw_params:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip()
    if scheme.lower() == "tel":
        return SipUri("tel", main, "", None, params)
    user, at, hostport = main.rpartition("@")
    if not at:
        user, hostport = "", main
    host, port = hostport, None
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ParseError("bad IPv6 host")
        host, tail = hostport[: end + 1], hostport[end + 1 :]
        if tail.startswith(":"):
            port = parse_port(tail[1:])
    elif ":" in hostport:
        host, _, p = hostport.partition(":")
        port = parse_port(p)
    if not host or any(ch.isspace() for ch in host):
        raise ParseError(f"bad host in URI {text[:60]!r}")
    return SipUri(scheme.lower(), user, host, port, params)


def parse_port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ParseError(f"bad port {text[:10]!r}")
    return int(text)
