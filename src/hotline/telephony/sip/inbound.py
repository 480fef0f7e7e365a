"""Reading what arrives: the caller and line of an INVITE, INFO digits, a 400 for junk."""

from __future__ import annotations

import contextlib
import hashlib

from hotline.contacts.phones import normalise_phone
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.telephony.backend import CallProgress
from hotline.telephony.sip.message import COMPACT, Message, ParseError, parse_address, parse_uri

DTMF_SIGNALS = "0123456789*#ABCD"


def stable_tag(call_id: str) -> str:
    """The To tag of a response sent without a dialog: the same for a retransmitted request."""
    return "hl" + hashlib.sha1(call_id.encode()).hexdigest()[:10]


def call_progress(invite: Message, trunk: str = "") -> CallProgress:
    """The line dialled (Request-URI user) and the caller (asserted identity, else From);
    `trunk` is the address the INVITE came from."""
    line = parse_uri(invite.uri).user or invite.to_addr.uri.user
    asserted = invite.get("p-asserted-identity")
    raw = invite.from_addr.uri.user
    if asserted:
        with contextlib.suppress(ParseError):
            raw = parse_address(asserted).uri.user or raw
    try:
        caller = normalise_phone(raw.split(";")[0], field="caller")
    except InvalidInput:
        caller = ""  # withheld ("anonymous") or not a phone number: stored as unknown
    return CallProgress(
        line=line[:20],
        caller=caller,
        started_at=utcnow(),
        sip_call_id=invite.call_id[:128],
        trunk=trunk[:64],
    )


def info_digit(msg: Message) -> str | None:
    """The digit in a SIP INFO: application/dtmf-relay (Signal=5) or application/dtmf (5)."""
    kind = msg.get("content-type").split(";")[0].strip().lower()
    text = msg.body.decode("utf-8", "replace").strip()
    if kind == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value.strip()
                break
        else:
            return None
    elif kind != "application/dtmf":
        return None
    if len(text) == 1 and text.upper() in DTMF_SIGNALS:
        return text.upper()
    if text.isdigit() and int(text) < len(DTMF_SIGNALS):
        return DTMF_SIGNALS[int(text)]  # some phones send the event code: 10 is *, 11 is #
    return None


def bad_request(data: bytes, why: str) -> bytes | None:
    """A 400 for a request too broken to parse, if its Via/From/To/Call-ID/CSeq can be read."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n", 1)[0]
    lines = text.strip("\n").split("\n")
    if not lines or lines[0].startswith("SIP/") or lines[0].split(" ")[0].upper() == "ACK":
        return None
    wanted = ("via", "from", "to", "call-id", "cseq")
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        key = COMPACT.get(name.strip().lower(), name.strip().lower())
        if colon and key in wanted:
            found.setdefault(key, []).append(value.strip())
    if any(k not in found for k in wanted):
        return None
    head = ["SIP/2.0 400 Bad Request"]
    head += [f"Via: {v}" for v in found["via"]]
    head += [f"{n}: {found[k][0]}" for n, k in (("From", "from"), ("To", "to"))]
    head += [f"Call-ID: {found['call-id'][0]}", f"CSeq: {found['cseq'][0]}"]
    reason = "".join(ch for ch in why if ch.isprintable() and ch != '"')[:100]
    head += [f'Warning: 399 - "{reason}"', "Content-Length: 0"]
    return ("\r\n".join(head) + "\r\n\r\n").encode()
