"""G.711 μ-law and A-law by lookup tables (the stdlib `audioop` is gone in Python 3.13).

Encoding follows the reference algorithm in ITU-T G.711 / Sun's g711.c, which is what
`audioop.lin2ulaw` / `lin2alaw` did, so output is bit-exact with audioop. Tables are built on
first use, not at import.
"""

from __future__ import annotations

from array import array
from functools import cache

SILENCE = {0: 0xFF, 8: 0xD5}  # the code for linear 0 in μ-law (PT 0) and A-law (PT 8)
_ULAW_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for i, end in enumerate(ends):
        if value <= end:
            return i
    return len(ends)


def _ulaw(sample: int) -> int:
    pcm = sample >> 2  # μ-law works on 14 bits
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + 0x21  # clip, then add the bias (0x84 >> 2)
    seg = _segment(pcm, _ULAW_SEG_END)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask


def _alaw(sample: int) -> int:
    pcm = sample >> 3  # A-law works on 13 bits
    if pcm >= 0:
        mask = 0xD5
    else:
        mask, pcm = 0x55, -pcm - 1
    seg = _segment(pcm, _ALAW_SEG_END)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0xF if seg < 2 else (pcm >> seg) & 0xF
    return aval ^ mask


def _ulaw_decode(code: int) -> int:
    u = ~code & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return 0x84 - t if u & 0x80 else t - 0x84


def _alaw_decode(code: int) -> int:
    a = code ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


@cache
def encode_table(payload_type: int) -> bytes:
    """65,536 codes indexed by the 16-bit sample read as unsigned."""
    fn = _ulaw if payload_type == 0 else _alaw
    return bytes(fn(i - 65536 if i >= 32768 else i) for i in range(65536))


@cache
def decode_table(payload_type: int) -> tuple[int, ...]:
    fn = _ulaw_decode if payload_type == 0 else _alaw_decode
    return tuple(fn(c) for c in range(256))


def encode(pcm: bytes, payload_type: int) -> bytes:
    """16-bit signed little-endian linear PCM to G.711 (PT 0 μ-law, PT 8 A-law)."""
    samples = array("H")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    table = encode_table(payload_type)
    return bytes(table[s] for s in samples)


def decode(data: bytes, payload_type: int) -> bytes:
    table = decode_table(payload_type)
    return array("h", (table[b] for b in data)).tobytes()


@cache
def translate_table(source_pt: int, target_pt: int) -> bytes:
    """A 256-byte table (for bytes.translate) from one G.711 law to the other."""
    return encode(decode(bytes(range(256)), source_pt), target_pt)
