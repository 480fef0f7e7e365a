"""G.711 tables, SDP negotiation, RTP framing and RFC 4733 digit decoding."""

from __future__ import annotations

import contextlib
import struct
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.telephony.media import g711
from hotline.telephony.media.rtp import DigitReceiver, rtp_payload
from hotline.telephony.prompts import Prompt, spell_digits
from hotline.telephony.sip.sdp import SdpError, build_answer, negotiate, parse_offer

ALL_SAMPLES = array("h", range(-32768, 32768)).tobytes()


@pytest.mark.parametrize("pt", [0, 8])
def test_g711_code_round_trip(pt):
    codes = bytes(range(256))
    again = g711.encode(g711.decode(codes, pt), pt)
    if pt == 0:  # μ-law has two zeros (0x7F and 0xFF); 0 encodes as 0xFF
        assert again == codes.replace(b"\x7f", b"\xff")
    else:
        assert again == codes


@pytest.mark.parametrize("pt", [0, 8])
def test_g711_linear_round_trip_is_within_one_quantisation_step(pt):
    decoded = array("h")
    decoded.frombytes(g711.decode(g711.encode(ALL_SAMPLES, pt), pt))
    for x, y in zip(range(-32768, 32768, 7), decoded[::7], strict=True):
        assert abs(x - y) <= max(16, abs(x) // 16), (x, y)


@pytest.mark.parametrize("pt", [0, 8])
def test_g711_is_bit_exact_with_audioop_where_it_exists(pt):
    audioop = pytest.importorskip("audioop")
    expected = audioop.lin2ulaw(ALL_SAMPLES, 2) if pt == 0 else audioop.lin2alaw(ALL_SAMPLES, 2)
    assert g711.encode(ALL_SAMPLES, pt) == expected


def _event(digit_code: int, *, end: bool, ts: int, seq: int, pt: int = 101) -> bytes:
    header = struct.pack("!BBHII", 0x80, pt, seq, ts, 1234)
    return header + struct.pack("!BBH", digit_code, 0x80 if end else 0, 800)


def test_rfc4733_digit_on_end_bit_once_per_timestamp():
    got: list[str] = []
    rx = DigitReceiver(101, got.append)
    for seq in range(5):
        rx.packet(_event(1, end=False, ts=1000, seq=seq))
    assert got == []
    for seq in range(5, 8):  # the end packet is sent three times
        rx.packet(_event(1, end=True, ts=1000, seq=seq))
    rx.packet(_event(11, end=True, ts=2000, seq=9))
    rx.packet(_event(10, end=True, ts=3000, seq=10))
    rx.packet(_event(5, end=True, ts=4000, seq=11, pt=0))  # audio, not an event
    rx.packet(b"\x80\x65")  # truncated
    assert got == ["1", "#", "*"]


def test_rtp_payload_skips_csrcs_and_extension():
    header = bytes([0x80 | 0x10 | 0x01, 101]) + struct.pack("!HII", 1, 160, 9) + b"CSRC"
    extension = struct.pack("!HH", 0xBEDE, 1) + b"EXT!"
    assert rtp_payload(header + extension + b"\x01\x80\x00\xa0") == (101, 160, b"\x01\x80\x00\xa0")
    assert rtp_payload(b"\x00" * 12) is None


OFFER = (
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
)


def test_sdp_answer_takes_offerers_codec_and_event_type():
    answer = negotiate(parse_offer(OFFER))
    assert (answer.codec, answer.event_pt, answer.remote) == (8, 96, ("10.0.0.2", 4000))
    sdp = build_answer(answer, address="10.0.0.1", port=20000).decode()
    assert "m=audio 20000 RTP/AVP 8 96" in sdp and "a=rtpmap:96 telephone-event/8000" in sdp


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"v=0\r\nm=audio 4000 RTP/AVP 18\r\nc=IN IP4 1.2.3.4\r\n",
        b"m=audio x RTP/AVP 0",
        b"\xff",
    ],
)
def test_sdp_without_a_usable_g711_stream_is_refused(body):
    with pytest.raises(SdpError):
        negotiate(parse_offer(body))


def test_digits_are_spelled_out_for_the_voice():
    assert spell_digits("Tổng đài 1022, phím 4") == "Tổng đài một không hai hai, phím bốn"


def test_prompt_is_cut_into_20ms_frames_per_codec():
    prompt = Prompt.from_pcm("p", b"\x00\x01" * 500)  # 500 samples -> 4 frames, padded
    assert {len(prompt.frames[pt]) for pt in (0, 8)} == {4}
    assert all(len(f) == 160 for f in prompt.frames[0])


class _Sink:
    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def sendto(self, data: bytes, addr: object = None) -> None:
        self.packets.append(data)


def test_stream_sends_prompt_frames_in_order_then_silence():
    import asyncio

    from hotline.telephony.media.rtp import RtpStream

    async def run() -> tuple[bool, list[bytes], bool]:
        sink = _Sink()
        stream = RtpStream(sink, ("127.0.0.1", 4000), 0)  # type: ignore[arg-type]
        prompt = Prompt.from_pcm("p", bytes(range(256)) * 5)  # 640 samples: 4 frames
        done = stream.play(prompt.frames[0])
        for _ in range(6):  # what the shared clock does each tick
            stream.send_frame()
        stopped = stream.play(prompt.frames[0])
        stream.stop()  # barge-in
        return done.result(), sink.packets, stopped.result()

    finished, packets, stopped_complete = asyncio.run(run())
    assert finished is True and stopped_complete is False
    headers = [struct.unpack("!BBHII", p[:12]) for p in packets]
    assert headers[0][1] == 0x80 and all(h[1] == 0 for h in headers[1:])  # marker, then PCMU
    assert [h[2] - headers[0][2] for h in headers] == list(range(6))
    assert [h[3] - headers[0][3] for h in headers] == [160 * i for i in range(6)]
    prompt = Prompt.from_pcm("p", bytes(range(256)) * 5)
    assert [p[12:] for p in packets[:4]] == list(prompt.frames[0])
    assert packets[5][12:] == b"\xff" * 160


def test_shared_clock_drives_every_stream():
    import asyncio

    from hotline.telephony.media.rtp import MediaClock, RtpStream

    async def run() -> list[int]:
        clock = MediaClock()
        sinks = [_Sink() for _ in range(3)]
        for sink in sinks:
            clock.streams.add(RtpStream(sink, ("127.0.0.1", 4000), 8))  # type: ignore[arg-type]
        clock.start()
        await asyncio.sleep(0.2)
        await clock.stop()
        return [len(s.packets) for s in sinks]

    counts = asyncio.run(run())
    assert min(counts) >= 3 and len(set(counts)) == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=400).map(str.encode))
def test_sdp_offers_only_ever_raise_sdp_error(body):
    with contextlib.suppress(SdpError):
        negotiate(parse_offer(OFFER[:40] + body))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_rtp_receiver_takes_any_bytes(data):
    rx = DigitReceiver(101, lambda digit: None)
    rx.packet(data)
    rtp_payload(data)


def test_stream_latches_once_onto_the_callers_real_rtp_port():
    import asyncio

    from hotline.telephony.media.rtp import RtpProtocol, RtpStream

    async def run(first_from: str) -> tuple[str, int]:
        proto = RtpProtocol()
        proto.stream = RtpStream(_Sink(), ("10.0.0.5", 4000), 0)  # type: ignore[arg-type]
        proto.latch_host = "203.0.113.7"  # where the INVITE came from
        proto.datagram_received(b"\x80\x00" + b"\x00" * 170, (first_from, 31000))
        proto.datagram_received(b"\x80\x00" + b"\x00" * 170, ("203.0.113.7", 32000))
        return proto.stream.remote

    # Behind NAT: the SDP said 10.0.0.5:4000; audio goes back where the caller's came from.
    assert asyncio.run(run("203.0.113.7")) == ("203.0.113.7", 31000)
    # A first packet from anyone else latches nothing, and later packets change nothing.
    assert asyncio.run(run("198.51.100.9")) == ("10.0.0.5", 4000)


@pytest.mark.parametrize(
    ("extra", "address", "direction"),
    [
        ("", "10.0.0.2", "sendrecv"),
        ("a=sendonly\r\n", "10.0.0.2", "recvonly"),
        ("a=inactive\r\n", "10.0.0.2", "inactive"),
        ("a=recvonly\r\n", "10.0.0.2", "sendonly"),
        ("", "0.0.0.0", "recvonly"),  # RFC 2543 hold: no address to send to
        ("a=recvonly\r\n", "0.0.0.0", "inactive"),
    ],
)
def test_sdp_answer_mirrors_the_offered_direction(extra, address, direction):
    body = OFFER.replace(b"c=IN IP4 10.0.0.2", f"c=IN IP4 {address}".encode())
    answer = negotiate(parse_offer(body + extra.encode()))
    assert answer.direction == direction
    assert f"a={direction}" in build_answer(answer, address="10.0.0.1", port=20000).decode()


def test_sdp_with_the_audio_stream_disabled_is_refused():
    with pytest.raises(SdpError):
        negotiate(parse_offer(OFFER.replace(b"m=audio 4000", b"m=audio 0")))
