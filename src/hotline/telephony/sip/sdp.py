"""SDP offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and telephone-event."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

PCMU, PCMA = 0, 8
CODEC_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}
DEFAULT_EVENT_PT = 101
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# RFC 3264 §6.1: what we answer to each offered direction (the caller's hold is sendonly or
# inactive; we then only listen, or do nothing).
ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}
# An offerer that does not want media names no address (RFC 2543's hold, still sent).
NOWHERE = ("0.0.0.0", "::")


class SdpError(ValueError):
    """The offer is malformed or offers nothing we can speak (answered with 488)."""


@dataclass(frozen=True)
class Offer:
    address: str
    port: int
    payload_types: tuple[int, ...]
    event_pt: int | None  # the offerer's payload type for telephone-event, if offered
    direction: str = "sendrecv"  # the offerer's, as its SDP says


@dataclass(frozen=True)
class Answer:
    codec: int
    event_pt: int | None
    remote: tuple[str, int]
    direction: str = "sendrecv"  # ours: whether we send, and whether the far end does

    @property
    def we_send(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    @property
    def held(self) -> bool:
        """The far end put the call on hold (or wants only one way): it need send nothing."""
        return self.direction != "sendrecv"


# Until the caller's answer arrives (an INVITE without an offer): nowhere to send to yet.
NO_ANSWER_YET = Answer(PCMU, DEFAULT_EVENT_PT, ("0.0.0.0", 0), "inactive")


def parse_offer(body: bytes) -> Offer:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("SDP is not UTF-8") from None
    session_addr, media_addr = "", ""
    port, in_audio = -1, False
    pts: tuple[int, ...] = ()
    event_pt: int | None = None
    rtpmap: dict[int, str] = {}
    session_dir, media_dir = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            in_audio = value.startswith("audio ") and port < 0
            if in_audio:
                port, pts = _media_line(value)
        elif kind == "c":
            addr = _connection(value)
            if port < 0:
                session_addr = addr
            elif in_audio:
                media_addr = addr
        elif kind == "a" and value.startswith("rtpmap:") and (in_audio or port < 0):
            pt_text, _, enc = value[7:].partition(" ")
            if pt_text.strip().isdigit():
                rtpmap[int(pt_text)] = enc.strip().lower()
        elif kind == "a" and value in DIRECTIONS:
            if port < 0:
                session_dir = value
            elif in_audio:
                media_dir = value
    if port < 0:
        raise SdpError("no audio stream offered")
    for pt in pts:
        if rtpmap.get(pt, "").startswith("telephone-event/8000"):
            event_pt = pt
            break
    address = media_addr or session_addr
    if not address:
        raise SdpError("no connection address")
    direction = media_dir or session_dir or "sendrecv"
    if address in NOWHERE:  # "do not send to me"
        direction = {"sendrecv": "sendonly", "recvonly": "inactive"}.get(direction, direction)
    return Offer(address, port, pts, event_pt, direction)


def _media_line(value: str) -> tuple[int, tuple[int, ...]]:
    parts = value.split()
    if len(parts) < 4 or not parts[1].isdigit() or not parts[2].startswith("RTP/AVP"):
        raise SdpError(f"bad m= line {value[:60]!r}")
    port = int(parts[1])
    if port > 65535:
        raise SdpError("bad media port")
    pts = tuple(int(p) for p in parts[3:] if p.isdigit() and int(p) < 128)
    return port, pts


def _connection(value: str) -> str:
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line {value[:60]!r}")
    addr = parts[2].split("/")[0]
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        raise SdpError("c= address is not an IP address") from None
    return addr


def negotiate(offer: Offer) -> Answer:
    """Take the offerer's first G.711 codec, and telephone-event if offered; the direction
    is the offer's mirrored."""
    if offer.port == 0:
        raise SdpError("the audio stream is disabled (port 0)")
    direction = ANSWER_DIRECTION[offer.direction]
    for pt in offer.payload_types:
        if pt in CODEC_NAMES:
            return Answer(pt, offer.event_pt, (offer.address, offer.port), direction)
    raise SdpError("no common codec (PCMU or PCMA)")


# The origin and session name say nothing of the software (RFC 4566 §5.2 allows "-" for a
# user name, §5.3 "-" for no session name): what answers a call is no business of a scanner
# or a carrier's logs. The session id is random per call, and its version starts random
# and goes up by one with each new SDP of the session (RFC 3264 §8).


def build_answer(
    answer: Answer, *, address: str, port: int, session_id: int | None = None, version: int = 0
) -> bytes:
    """Our answer; `version` goes up by one with each answer in the session (RFC 3264 §8)."""
    sid = session_id if session_id is not None else secrets.randbelow(2**31)
    ip = "IP6" if ":" in address else "IP4"
    pts = [str(answer.codec)]
    lines = [
        "v=0",
        f"o=- {sid} {sid + version} IN {ip} {address}",
        "s=-",
        f"c=IN {ip} {address}",
        "t=0 0",
    ]
    attrs = [f"a=rtpmap:{answer.codec} {CODEC_NAMES[answer.codec]}/8000"]
    if answer.event_pt is not None:
        pts.append(str(answer.event_pt))
        attrs += [
            f"a=rtpmap:{answer.event_pt} telephone-event/8000",
            f"a=fmtp:{answer.event_pt} 0-15",
        ]
    lines.append(f"m=audio {port} RTP/AVP {' '.join(pts)}")
    lines += [*attrs, "a=ptime:20", f"a={answer.direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def build_offer(
    codecs: tuple[int, ...],
    *,
    address: str,
    port: int,
    event_pt: int | None = DEFAULT_EVENT_PT,
    session_id: int | None = None,
    version: int = 0,
) -> bytes:
    """An offer (a call we place, or the 200 to an INVITE without one): these G.711 codecs,
    in order."""
    sid = session_id if session_id is not None else secrets.randbelow(2**31)
    ip = "IP6" if ":" in address else "IP4"
    pts = [str(c) for c in codecs] + ([str(event_pt)] if event_pt is not None else [])
    lines = [
        "v=0",
        f"o=- {sid} {sid + version} IN {ip} {address}",
        "s=-",
        f"c=IN {ip} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(pts)}",
    ]
    lines += [f"a=rtpmap:{c} {CODEC_NAMES[c]}/8000" for c in codecs]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-15"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()
