"""In-band DTMF for the tests: dual tones as G.711, and a pcap of them that sipp plays."""

from __future__ import annotations

import math
import struct
from array import array
from pathlib import Path

from hotline.telephony.media.dtmf import COLS, KEYS, ROWS
from hotline.telephony.media.g711 import SILENCE, encode

FRAME = 160


def tone_pcm(key: str, ms: int, amplitude: float = 6000.0, deviation: float = 0.0) -> bytes:
    """16-bit linear PCM of `key`'s two tones (each of `amplitude`), `ms` long."""
    row = next(i for i, keys in enumerate(KEYS) if key in keys)
    low, high = ROWS[row] * (1 + deviation), COLS[KEYS[row].index(key)] * (1 + deviation)
    samples = array(
        "h",
        (
            int(amplitude * (math.sin(2 * math.pi * low * n / 8000)))
            + int(amplitude * math.sin(2 * math.pi * high * n / 8000))
            for n in range(8 * ms)
        ),
    )
    return samples.tobytes()


def g711(pcm: bytes, payload_type: int = 0) -> bytes:
    return encode(pcm, payload_type)


def silence(ms: int, payload_type: int = 0) -> bytes:
    return bytes([SILENCE[payload_type]]) * (8 * ms)


def frames(audio: bytes) -> list[bytes]:
    audio += bytes([audio[-1] if audio else 0xFF]) * (-len(audio) % FRAME)
    return [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]


def write_pcap(path: Path, audio: bytes, payload_type: int = 0) -> None:
    """RTP packets of 20 ms (Ethernet/IPv4/UDP, as sipp's own pcaps), 20 ms apart."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for seq, payload in enumerate(frames(audio)):
        rtp = struct.pack("!BBHII", 0x80, payload_type, seq, seq * FRAME, 0x1022) + payload
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq, 0x4000, 64, 17, 0,
            bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]),
        )  # fmt: skip
        eth = bytes(6) + bytes(6) + b"\x08\x00"
        packet = eth + ip + udp
        usec = seq * 20_000
        out.append(
            struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(packet), len(packet))
        )
        out.append(packet)
    path.write_bytes(b"".join(out))
