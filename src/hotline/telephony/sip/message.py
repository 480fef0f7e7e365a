"""SIP messages (RFC 3261 §7): parse and serialise requests and responses.

Everything that arrives from the network goes through `parse`, which either returns a message
whose essential headers (Via, From, To, Call-ID, CSeq) are known to be well formed, or raises
ParseError. The user agent relies on that so that no later lookup can blow up on bad input.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from hotline.sip_uri import ParseError, SipUri, parse_port, parse_uri

MAX_MESSAGE = 65_535

COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "r": "refer-to",
    "o": "event",
    "x": "session-expires",
}
# How headers are written back; anything else keeps the spelling it arrived with.
CANONICAL = {
    "via": "Via",
    "from": "From",
    "to": "To",
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "contact": "Contact",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "max-forwards": "Max-Forwards",
    "record-route": "Record-Route",
    "route": "Route",
    "refer-to": "Refer-To",
    "referred-by": "Referred-By",
    "www-authenticate": "WWW-Authenticate",
    "session-expires": "Session-Expires",
    "min-se": "Min-SE",
}
# Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1).
LIST_HEADERS = {"via", "route", "record-route", "contact"}
TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
REQUIRED = ("via", "from", "to", "call-id", "cseq")


def header_key(name: str) -> str:
    low = name.strip().lower()
    return COMPACT.get(low, low)


def split_commas(value: str) -> list[str]:
    """Split a header value on commas that are outside quotes and angle brackets."""
    parts: list[str] = []
    depth, quoted, start, i = 0, False, 0, 0
    while i < len(value):
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


@dataclass
class Address:
    """A name-addr or addr-spec, as in From, To, Contact, Refer-To."""

    display: str
    uri: SipUri
    params: dict[str, str]

    @property
    def tag(self) -> str:
        return self.params.get("tag", "")


def parse_address(value: str) -> Address:
    value = value.strip()
    if "<" in value:
        display, _, rest = value.partition("<")
        uri_text, close, tail = rest.partition(">")
        if not close:
            raise ParseError("unclosed '<' in address")
    else:
        display, uri_text, tail = "", value, ""
        if ";" in value:
            # Without brackets, parameters belong to the header, not the URI (RFC 3261 §20.10).
            uri_text, _, tail = value.partition(";")
            tail = ";" + tail
    params = {}
    for p in tail.split(";")[1:]:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip()
    return Address(display.strip().strip('"'), parse_uri(uri_text), params)


@dataclass
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def branch(self) -> str:
        return self.params.get("branch", "")


def parse_via(value: str) -> Via:
    proto, _, rest = value.strip().partition(" ")
    parts = proto.split("/")
    if len(parts) != 3 or parts[0].upper() != "SIP":
        raise ParseError(f"bad Via {value[:60]!r}")
    sent_by, *raw = rest.strip().split(";")
    host, port = sent_by.strip(), None
    if ":" in host and not host.startswith("["):
        host, _, p = host.partition(":")
        port = parse_port(p.strip())
    if not host:
        raise ParseError("Via without host")
    params = {}
    for p in raw:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip()
    return Via(parts[2].upper(), host, port, params)


@dataclass
class Message:
    """A request (method set) or a response (status set); headers keep arrival order."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get(self, name: str, default: str = "") -> str:
        key = header_key(name)
        for n, v in self.headers:
            if header_key(n) == key:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        key = header_key(name)
        values = [v for n, v in self.headers if header_key(n) == key]
        if key in LIST_HEADERS:
            return [part for v in values for part in split_commas(v)]
        return values

    def add(self, name: str, value: str) -> None:
        self.headers.append((name, value))

    def set(self, name: str, value: str) -> None:
        self.remove(name)
        self.add(name, value)

    def remove(self, name: str) -> None:
        key = header_key(name)
        self.headers = [(n, v) for n, v in self.headers if header_key(n) != key]

    @property
    def call_id(self) -> str:
        return self.get("call-id")

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self.get("cseq").strip().partition(" ")
        return int(number), method.strip()  # case-sensitive, as the method (RFC 3261 §7.1)

    @property
    def vias(self) -> list[Via]:
        return [parse_via(v) for v in self.get_all("via")]

    @property
    def from_addr(self) -> Address:
        return parse_address(self.get("from"))

    @property
    def to_addr(self) -> Address:
        return parse_address(self.get("to"))

    def serialise(self) -> bytes:
        if self.is_request:
            start = f"{self.method} {self.uri} SIP/2.0"
        else:
            start = f"SIP/2.0 {self.status} {self.reason}"
        lines = [start]
        for name, value in self.headers:
            if header_key(name) == "content-length":
                continue
            lines.append(f"{CANONICAL.get(header_key(name), name)}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def parse(data: bytes) -> Message:
    """Parse one datagram; raise ParseError for anything malformed."""
    if len(data) > MAX_MESSAGE:
        raise ParseError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("headers are not UTF-8") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)  # RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives)
    if not lines:
        raise ParseError("empty message")
    msg = _start_line(lines[0])
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            if not msg.headers:
                raise ParseError("continuation line before any header")
            name, value = msg.headers[-1]
            msg.headers[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not TOKEN.match(name.strip()):
            raise ParseError(f"bad header line {line[:60]!r}")
        msg.headers.append((name.strip(), value.strip()))
    msg.body = _body(msg, body)
    _validate(msg)
    return msg


def _start_line(line: str) -> Message:
    if line.startswith("SIP/"):
        version, _, rest = line.partition(" ")
        code, _, reason = rest.partition(" ")
        if version != "SIP/2.0" or not (len(code) == 3 and code.isdigit()):
            raise ParseError(f"bad status line {line[:60]!r}")
        if not 100 <= int(code) <= 699:
            raise ParseError("status code out of range")
        return Message(status=int(code), reason=reason.strip())
    parts = line.split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not TOKEN.match(parts[0]):
        raise ParseError(f"bad request line {line[:60]!r}")
    parse_uri(parts[1])
    return Message(method=parts[0], uri=parts[1])  # case-sensitive (RFC 3261 §7.1)


def _body(msg: Message, body: bytes) -> bytes:
    raw = msg.get("content-length")
    if not raw:
        return body
    if not raw.isdigit():
        raise ParseError(f"bad Content-Length {raw[:20]!r}")
    length = int(raw)
    if length > len(body):
        raise ParseError("Content-Length larger than the body")
    # Over UDP anything after Content-Length bytes is padding to drop (RFC 3261 §18.3).
    return body[:length]


def _validate(msg: Message) -> None:
    for name in REQUIRED:
        if not msg.get(name):
            raise ParseError(f"missing {CANONICAL.get(name, name)} header")
    try:
        number, method = msg.cseq
    except ValueError:
        raise ParseError(f"bad CSeq {msg.get('cseq')[:40]!r}") from None
    if not method or not TOKEN.match(method) or number < 0 or number >= 2**31:
        raise ParseError("bad CSeq")
    if msg.is_request and method != msg.method:
        raise ParseError("CSeq method differs from the request method")
    msg.vias  # noqa: B018 - parsed now so that a bad Via fails here, not later
    msg.from_addr  # noqa: B018
    msg.to_addr  # noqa: B018
    for contact in msg.get_all("contact"):
        if contact.strip() != "*":
            parse_address(contact)


MAGIC_COOKIE = "z9hG4bK"


def transaction_key(msg: Message) -> tuple[str, ...]:
    """The server transaction a request belongs to (RFC 3261 §17.2.3): the top Via's branch
    and sent-by and the method, an ACK counting as its INVITE's. The Call-ID is added: a
    genuine retransmission always carries it, and a peer reusing a branch across calls must
    not be handed another call's response."""
    via = msg.vias[0]
    method = "INVITE" if msg.method == "ACK" else msg.method
    sent_by = (via.host.lower(), str(via.port or 5060))
    if via.branch.startswith(MAGIC_COOKIE):
        return (via.branch, *sent_by, method, msg.call_id)
    # An RFC 2543 peer's branch is not unique: the request's own identity is what matches.
    number, _ = msg.cseq
    return ("", msg.uri, msg.from_addr.tag, msg.call_id, str(number), *sent_by, method)


def stamp_via(msg: Message, source: tuple[str, int]) -> None:
    """Write where a request really came from into its top Via (RFC 3261 §18.2.1, RFC 3581
    §4): `received` when the sent-by host is not the source address (always with `rport`),
    and the source port into an empty `rport`."""
    i = next((n for n, (name, _) in enumerate(msg.headers) if header_key(name) == "via"), -1)
    if i < 0:
        return
    name, value = msg.headers[i]
    first, *rest = split_commas(value)
    head, *params = first.split(";")
    via = parse_via(first)
    wants_rport = "rport" in via.params
    kept = [p for p in params if p.partition("=")[0].strip().lower() not in ("received", "rport")]
    if wants_rport or via.host.strip("[]") != source[0]:
        kept.append(f"received={source[0]}")
    if wants_rport:
        kept.append(f"rport={source[1]}")
    msg.headers[i] = (name, ", ".join([";".join([head, *kept]), *rest]))


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return MAGIC_COOKIE + secrets.token_hex(8)


def response_to(req: Message, status: int, reason: str, *, to_tag: str = "") -> Message:
    """A response carrying the request's Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6)."""
    resp = Message(status=status, reason=reason)
    for v in req.get_all("via"):
        resp.add("Via", v)
    resp.add("From", req.get("from"))
    to = req.get("to")
    if to_tag and status != 100 and ";tag=" not in to.lower():
        to = f"{to};tag={to_tag}"
    resp.add("To", to)
    resp.add("Call-ID", req.call_id)
    resp.add("CSeq", req.get("cseq"))
    return resp
