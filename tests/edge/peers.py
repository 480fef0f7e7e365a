"""Peers for the edge's dialog tests: a far end on plain UDP that answers a line's call and
follows the dialog's route set (RFC 3261 §12), and the line placing a call the way its queue
and transfers do (OutboundLeg to a Reach)."""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable

from hotline.telephony.sip.message import Message, new_branch, new_tag, parse, response_to
from hotline.telephony.sip.outbound import OutboundLeg
from hotline.telephony.sip.route import Reach
from hotline.telephony.sip.ua import UserAgent
from tests.telephony.test_door_guard import Peer


def sdp(host: str, port: int) -> bytes:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    ).encode()


class FarEnd:
    """A UA on its own UDP socket (blocking; used from threads). `contact`: the host:port it
    writes in its Contact (another than its socket's: a phone behind NAT)."""

    def __init__(
        self, host: str = "127.0.0.1", contact: str = "", sock: socket.socket | None = None
    ) -> None:
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((host, 0))
        self.sock = sock
        self.host, self.port = self.sock.getsockname()
        self.contact = contact or f"{self.host}:{self.port}"
        self.received: list[Message] = []
        self.invite: Message | None = None
        self.tag = new_tag()
        self.cseq = 1

    def close(self) -> None:
        self.sock.close()

    def recv(self, seconds: float, wanted: Callable[[Message], bool]) -> tuple[Message, tuple]:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            data, addr = self.sock.recvfrom(65535)
            message = parse(data)
            self.received.append(message)
            if wanted(message):
                return message, addr
        raise TimeoutError

    def answer(self, seconds: float) -> Message:
        """Wait for an INVITE, answer it 200 with an SDP answer (the Record-Route echoed, as a
        UAS does), and wait for the ACK. The INVITE."""
        invite, addr = self.recv(seconds, lambda m: m.method == "INVITE")
        self.invite = invite
        ok = response_to(invite, 200, "OK", to_tag=self.tag)
        for rr in invite.get_all("record-route"):
            ok.add("Record-Route", rr)
        ok.add("Contact", f"<sip:far@{self.contact}>")
        ok.add("Content-Type", "application/sdp")
        ok.body = sdp(self.host, 4000)
        self.sock.sendto(ok.serialise(), addr)
        self.recv(seconds, lambda m: m.method == "ACK")
        return invite

    def bye(self, seconds: float) -> Message:
        """Hang up: a BYE to the caller's Contact through the dialog's route set (the
        INVITE's Record-Route, in order), sent to its first entry. The 200."""
        assert self.invite is not None
        invite = self.invite
        routes = invite.get_all("record-route")
        bye = Message(method="BYE", uri=invite.get("contact").strip("<>").split(">")[0])
        bye.add("Via", f"SIP/2.0/UDP {self.host}:{self.port};branch={new_branch()};rport")
        bye.add("Max-Forwards", "70")
        bye.add("From", f"{invite.get('to')};tag={self.tag}")
        bye.add("To", invite.get("from"))
        bye.add("Call-ID", invite.call_id)
        bye.add("CSeq", f"{self.cseq + 1} BYE")
        for route in routes:
            bye.add("Route", route)
        first = routes[0].strip("<>").split(";")[0].removeprefix("sip:")
        host, port = first.rsplit(":", 1)
        self.sock.sendto(bye.serialise(), (host, int(port)))
        return self.recv(seconds, lambda m: m.cseq[1] == "BYE" and m.status >= 200)[0]

    def answer_bye(self, seconds: float) -> Message:
        """Wait for the BYE and answer it 200. The BYE."""
        bye, addr = self.recv(seconds, lambda m: m.method == "BYE")
        self.sock.sendto(response_to(bye, 200, "OK").serialise(), addr)
        return bye


async def place_call(ua: UserAgent, where: Reach, ring_seconds: float = 5) -> OutboundLeg:
    """The line calls `where` as its queue and transfers do; the leg, answered or not."""
    rtp = await ua.ports.open(ua.config.host)
    out = OutboundLeg(
        ua,
        target=where.target,
        hop=where.hop,
        route=where.route,
        caller="+84912345678",
        codec=0,
        rtp=rtp,
    )
    await out.call(ring_seconds)
    return out


class TlsPhone(Peer):
    """A phone on a TLS connection to the edge (blocking; used from threads): REGISTERs as
    Peer does, over its connection."""

    def __init__(self, host: str, port: int) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the edge's certificate is made at test time
        raw = socket.create_connection((host, port), timeout=5)
        self.sock = context.wrap_socket(raw)
        self.server = (host, port)
        self.host, self.port = self.sock.getsockname()
        self.n = 0
        self.buffer = b""

    def request(self, method: str, **kw: str) -> str:  # type: ignore[override]
        return super().request(method, **kw).replace("SIP/2.0/UDP", "SIP/2.0/TLS", 1)

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def recv(self, seconds: float, wanted: Callable[[Message], bool] = lambda m: True) -> Message:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if sep:
                found = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
                length = int(found.group(1)) if found else 0
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    message = parse(head + sep + rest[:length])
                    if wanted(message):
                        return message
                    continue
            self.sock.settimeout(left)
            data = self.sock.recv(65535)
            if not data:
                break
            self.buffer += data
        raise TimeoutError

    def register_tls(self, user: str, password: str) -> int:
        contact = f"sip:{user}@{self.host}:{self.port};transport=tls"
        # Through the edge: it takes the Path the edge adds (RFC 3327).
        return self.register(user, password, "Supported: path\r\n", contact)
