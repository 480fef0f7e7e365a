"""Digest authentication (RFC 2617/7616, MD5, qop=auth), opening hours, the RTP relay."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.telephony.hours import OpeningHours, vi_number
from hotline.telephony.media.g711 import decode
from hotline.telephony.media.rtp import RtpStream
from hotline.telephony.sip.digest import DigestAuth, Registrar, Verdict, md5, parse_digest

HA1 = {"op1": md5("op1:hotline1022:secret-pw")}


def answer(
    auth: DigestAuth, challenge: str, *, password: str = "secret-pw", qop: bool = True
) -> str:
    nonce = parse_digest(challenge)["nonce"]  # type: ignore[index]
    ha1 = md5(f"op1:hotline1022:{password}")
    ha2 = md5("REGISTER:sip:127.0.0.1")
    if qop:
        response = md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
        extra = ', qop=auth, nc=00000001, cnonce="abc"'
    else:
        response, extra = md5(f"{ha1}:{nonce}:{ha2}"), ""
    return (
        f'Digest username="op1", realm="hotline1022", nonce="{nonce}", '
        f'uri="sip:127.0.0.1", response="{response}", algorithm=MD5{extra}'
    )


def test_digest_accepts_the_right_password_with_and_without_qop():
    auth = DigestAuth("hotline1022")
    challenge = auth.challenge()
    assert 'qop="auth"' in challenge and "stale" not in challenge
    assert auth.check("REGISTER", answer(auth, challenge), HA1.get).verdict is Verdict.OK
    assert auth.check("REGISTER", answer(auth, challenge, qop=False), HA1.get).verdict is Verdict.OK


def test_digest_refuses_wrong_password_unknown_user_and_forged_nonce():
    auth = DigestAuth("hotline1022")
    wrong = answer(auth, auth.challenge(), password="guess")
    assert auth.check("REGISTER", wrong, HA1.get).verdict is Verdict.WRONG
    assert auth.check("REGISTER", answer(auth, auth.challenge()), {}.get).verdict is (
        Verdict.UNKNOWN_USER
    )
    other = DigestAuth("hotline1022")  # another process's secret: its nonces are not ours
    assert auth.check("REGISTER", answer(other, other.challenge()), HA1.get).verdict is (
        Verdict.MISSING
    )
    assert auth.check("REGISTER", "", HA1.get).verdict is Verdict.MISSING
    assert auth.check("REGISTER", "Basic b3AxOng=", HA1.get).verdict is Verdict.MISSING


def test_an_expired_nonce_is_stale_so_the_phone_retries_silently():
    now = [1_000_000.0]
    auth = DigestAuth("hotline1022", lifetime=300, clock=lambda: now[0])
    header = answer(auth, auth.challenge())
    now[0] += 301
    assert auth.check("REGISTER", header, HA1.get).verdict is Verdict.STALE
    assert "stale=true" in auth.challenge(stale=True)


def test_registrar_bindings_expire():
    now = [0.0]
    registrar = Registrar(clock=lambda: now[0])
    registrar.bind("op1", "sip:op1@127.0.0.1:5070", ("127.0.0.1", 5070), 60)
    assert registrar.remaining("op1") == 60
    now[0] = 61
    assert registrar.lookup("op1") is None


def test_vietnamese_numbers_and_the_doctor_hours_prompt():
    assert [vi_number(n) for n in (9, 11, 15, 21, 24, 30)] == [
        "chín",
        "mười một",
        "mười lăm",
        "hai mươi mốt",
        "hai mươi tư",
        "ba mươi",
    ]
    hours = OpeningHours(
        {"doctor": ["09:00-11:00", "15:00-17:00", "19:00-21:00"]}, ZoneInfo("Asia/Ho_Chi_Minh")
    )
    assert hours.texts()["hours_doctor"] == (
        "Tư vấn bác sĩ làm việc từ chín giờ đến mười một giờ, từ mười lăm giờ đến mười bảy giờ"
        " và từ mười chín giờ đến hai mươi mốt giờ hằng ngày."
    )
    at = lambda h, m: datetime(2026, 11, 23, h, m, tzinfo=UTC)  # noqa: E731 - UTC = local - 7
    assert hours.is_open("doctor", at(2, 0))  # 09:00
    assert not hours.is_open("doctor", at(4, 0))  # 11:00: closed (end excluded)
    assert not hours.is_open("doctor", at(5, 30))  # 12:30
    assert hours.is_open("doctor", at(13, 59))  # 20:59
    assert hours.is_open("operator", at(20, 0))  # no hours: always open


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, addr: object) -> None:
        self.sent.append(data)


@pytest.mark.parametrize(("source_pt", "target_pt"), [(8, 8), (0, 8), (8, 0)])
def test_relay_restamps_and_translates_between_laws(source_pt: int, target_pt: int):
    transport = FakeTransport()
    stream = RtpStream(transport, ("127.0.0.1", 4000), target_pt)  # type: ignore[arg-type]
    payload = bytes(range(0, 160))
    for i in range(3):
        stream.relay(struct.pack("!BBHII", 0x80, source_pt, 100 + i, 5000 + 160 * i, 42) + payload)
    stream.relay(struct.pack("!BBHII", 0x80, 101, 103, 5480, 42) + b"\x01\x80\x00\xa0")  # event
    assert len(transport.sent) == 3  # telephone-events are not forwarded
    heads = [struct.unpack_from("!BBHII", p) for p in transport.sent]
    assert {h[4] for h in heads} == {stream.ssrc}
    assert [h[2] for h in heads] == [(heads[0][2] + i) & 0xFFFF for i in range(3)]
    assert [h[3] - heads[0][3] for h in heads] == [0, 160, 320]
    assert all(h[1] & 0x7F == target_pt for h in heads)
    # The same sound, whichever law: decoded samples match within G.711's quantisation.
    source = decode(payload, source_pt)
    out = decode(transport.sent[0][12:], target_pt)
    a = struct.unpack(f"<{len(source) // 2}h", source)
    b = struct.unpack(f"<{len(out) // 2}h", out)
    assert all(abs(x - y) <= max(64, abs(x) // 8) for x, y in zip(a, b, strict=True))
