"""SIP message parsing: the forms real peers send, and errors that are always ParseError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.telephony.sip.inbound import bad_request, call_progress, info_digit
from hotline.telephony.sip.message import Message, ParseError, parse, response_to

INVITE = (
    b"INVITE sip:1022@10.0.0.1:5080 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-a;rport, "
    b"SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-b\r\n"
    b"v: SIP/2.0/UDP 10.0.0.4:5060;branch=z9hG4bK-c\r\n"
    b'f: "Nguyen Van A" <sip:0912345678@10.0.0.2>;tag=abc\r\n'
    b"t: <sip:1022@10.0.0.1>\r\n"
    b"i: call-1@10.0.0.2\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"m: <sip:0912345678@10.0.0.2:5060>\r\n"
    b"Record-Route: <sip:proxy1;lr>, <sip:proxy2;lr>\r\n"
    b"Subject: long\r\n  folded header\r\n"
    b"c: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\nextra padding"
)


def test_request_with_compact_headers_multiple_vias_and_body():
    msg = parse(INVITE)
    assert (msg.method, msg.uri) == ("INVITE", "sip:1022@10.0.0.1:5080")
    assert [v.branch for v in msg.vias] == ["z9hG4bK-a", "z9hG4bK-b", "z9hG4bK-c"]
    assert msg.call_id == "call-1@10.0.0.2"
    assert msg.get("FROM") == msg.get("f") and msg.from_addr.tag == "abc"
    assert msg.from_addr.uri.user == "0912345678"
    assert msg.from_addr.display == "Nguyen Van A"
    assert msg.get("content-type") == "application/sdp"
    assert msg.get_all("record-route") == ["<sip:proxy1;lr>", "<sip:proxy2;lr>"]
    assert msg.get("subject") == "long folded header"
    assert msg.body == b"v=0\r"  # Content-Length wins over UDP padding
    assert msg.cseq == (1, "INVITE")


def test_response_round_trips_through_serialise():
    req = parse(INVITE)
    resp = response_to(req, 180, "Ringing", to_tag="xyz")
    again = parse(resp.serialise())
    assert (again.status, again.reason, again.is_request) == (180, "Ringing", False)
    assert again.to_addr.tag == "xyz"
    assert len(again.vias) == 3 and again.get("content-length") == "0"


def test_serialise_writes_canonical_names_and_content_length():
    msg = Message(method="OPTIONS", uri="sip:a@b")
    for name, value in [("v", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("f", "<sip:a@b>;tag=1")]:
        msg.add(name, value)
    msg.body = b"hello"
    text = msg.serialise()
    assert b"Via: SIP/2.0/UDP" in text and b"Content-Length: 5\r\n\r\nhello" in text


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"INVITE sip:1022@h SIP/3.0\r\n\r\n",
        b"SIP/2.0 99 Too Low\r\n\r\n",
        INVITE.replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE"),
        INVITE.replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"),
        INVITE.replace(b"l: 4", b"l: 400"),
        INVITE.replace(b"l: 4", b"l: -1"),
        INVITE.replace(b"i: call-1@10.0.0.2\r\n", b""),
        INVITE.replace(b"t: <sip:1022@10.0.0.1>", b"t: <sip:1022@10.0.0.1"),
        INVITE.replace(b"sip:1022@10.0.0.1:5080", b"http://x"),
        INVITE.replace(b"SIP/2.0/UDP 10.0.0.4:5060", b"garbage"),
        b"OPTIONS sip:a@b SIP/2.0\r\nbad header line\r\n\r\n",
        b"\xff\xfe" * 10,
    ],
    ids=lambda d: d[:24].decode("latin-1"),
)
def test_malformed_messages_raise_parse_error(data):
    with pytest.raises(ParseError):
        parse(data)


def test_bad_request_answer_carries_the_dialog_headers():
    data = INVITE.replace(b"l: 4", b"l: 400")
    reply = parse(bad_request(data, "Content-Length larger than the body") or b"")
    assert reply.status == 400 and reply.call_id == "call-1@10.0.0.2"
    assert bad_request(b"ACK sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", "x") is None
    assert bad_request(b"garbage", "x") is None


def test_caller_is_e164_or_unknown():
    msg = parse(INVITE)
    assert call_progress(msg).caller == "+84912345678"
    assert call_progress(msg).line == "1022"
    anon = parse(INVITE.replace(b"sip:0912345678@10.0.0.2>;tag", b"sip:anonymous@x>;tag"))
    assert call_progress(anon).caller == ""


@pytest.mark.parametrize(
    ("ctype", "body", "digit"),
    [
        ("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", "5"),
        ("application/dtmf-relay", "Signal= *\r\n", "*"),
        ("application/dtmf", "11", "#"),
        ("application/dtmf", "7", "7"),
        ("application/dtmf-relay", "Duration=160", None),
        ("text/plain", "5", None),
    ],
)
def test_info_digits(ctype, body, digit):
    msg = parse(INVITE.replace(b"INVITE", b"INFO"))
    msg.set("Content-Type", ctype)
    msg.body = body.encode()
    assert info_digit(msg) == digit


def _mutate(data: bytes, cuts: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, length, insert in cuts:
        pos %= len(out) + 1
        out[pos : pos + length] = insert
    return bytes(out)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_ever_raise_parse_error(data):
    with contextlib.suppress(ParseError):
        parse(data)


@settings(max_examples=800, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2000),
            st.integers(0, 8),
            st.sampled_from(
                [b"", b":", b";", b"<", b">", b",", b" ", b"\r\n", b"\xff", b"0", b"="]
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_messages_only_ever_raise_parse_error(cuts):
    data = _mutate(INVITE, cuts)
    try:
        msg = parse(data)
    except ParseError:
        return
    # What parsed must be usable by the user agent without further errors.
    assert msg.vias and msg.call_id
    msg.serialise()
    if msg.is_request:
        response_to(msg, 200, "OK", to_tag="t").serialise()
        if msg.method == "INVITE":
            call_progress(msg)


class _FakeTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, addr: object = None) -> None:
        self.sent.append(data)

    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 5080)

    def close(self) -> None:
        pass


OFFER_INVITE = INVITE.replace(b"l: 4", b"l: 60").replace(
    b"v=0\r\nextra padding",
    b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 101\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n",
)
SEEDS = [
    OFFER_INVITE,
    INVITE.replace(b"INVITE", b"OPTIONS"),
    INVITE.replace(b"INVITE", b"BYE"),
    INVITE.replace(b"INVITE", b"CANCEL"),
    INVITE.replace(b"INVITE", b"INFO"),
    b"SIP/2.0 200 OK\r\n" + INVITE.split(b"\r\n", 1)[1],
]


def test_user_agent_never_raises_on_mutated_datagrams():
    import asyncio

    from hotline.telephony.sip.ua import UaConfig, UserAgent

    loop = asyncio.new_event_loop()
    ua = UserAgent(UaConfig(rtp_ports=(39000, 39100)))
    ua.transport = _FakeTransport()  # type: ignore[assignment]

    async def handler(leg: object) -> None:
        return None

    ua._handler, ua._on_end = handler, lambda progress: None

    async def feed(data: bytes) -> None:
        ua._receive(data, ("127.0.0.1", 5060))
        await asyncio.sleep(0)

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(SEEDS),
        st.lists(
            st.tuples(
                st.integers(0, 2000),
                st.integers(0, 8),
                st.sampled_from([b"", b":", b";", b"<", b",", b" ", b"\r\n", b"\xff", b"=", b"9"]),
            ),
            max_size=4,
        ),
    )
    def check(seed: bytes, cuts: list[tuple[int, int, bytes]]) -> None:
        loop.run_until_complete(feed(_mutate(seed, cuts) if cuts else seed))

    try:
        check()
        assert ua.transport.sent  # type: ignore[attr-defined]
    finally:
        loop.run_until_complete(ua.stop())
        loop.close()


def test_invite_that_names_no_one_to_call_back_gets_400_and_frees_its_port():
    import asyncio

    from hotline.telephony.sip.ua import UaConfig, UserAgent

    async def run() -> tuple[list[bytes], set[int]]:
        ua = UserAgent(UaConfig(rtp_ports=(39200, 39210)))
        ua.transport = _FakeTransport()  # type: ignore[assignment]

        async def handler(leg: object) -> None:
            raise AssertionError("no call should start")

        ua._handler, ua._on_end = handler, lambda progress: None
        ua._receive(
            OFFER_INVITE.replace(b"m: <sip:0912345678@10.0.0.2:5060>", b"m: *"), ("127.0.0.1", 5060)
        )
        await asyncio.sleep(0.05)
        return ua.transport.sent, ua.ports.used  # type: ignore[attr-defined]

    sent, used = asyncio.run(run())
    assert [parse(d).status for d in sent] == [100, 400]
    assert used == set()


def test_cancel_before_the_call_has_its_port_still_ends_it_with_487():
    import asyncio

    from hotline.telephony.sip.ua import UaConfig, UserAgent

    ended: list[object] = []

    async def run() -> tuple[list[bytes], set[int]]:
        ua = UserAgent(UaConfig(rtp_ports=(39300, 39310)))
        ua.transport = _FakeTransport()  # type: ignore[assignment]

        async def handler(leg: object) -> None:
            raise AssertionError("a cancelled call must not start")

        ua._handler, ua._on_end = handler, ended.append
        ua._receive(OFFER_INVITE, ("127.0.0.1", 5060))
        cancel = OFFER_INVITE.split(b"\r\n\r\n")[0].replace(b"INVITE", b"CANCEL")
        ua._receive(cancel.replace(b"l: 60", b"l: 0") + b"\r\n\r\n", ("127.0.0.1", 5060))
        await asyncio.sleep(0.05)
        return ua.transport.sent, ua.ports.used  # type: ignore[attr-defined]

    sent, used = asyncio.run(run())
    assert [(parse(d).status, parse(d).cseq[1]) for d in sent] == [
        (100, "INVITE"),
        (200, "CANCEL"),
        (487, "INVITE"),
    ]
    assert used == set() and len(ended) == 1
