"""In-band DTMF: keys heard in the caller's G.711 audio, for callers whose SDP offered no
telephone-event (RFC 4733) and who send no SIP INFO.

Each RTP packet is one Goertzel block: the payload decoded to linear PCM by table and the
eight DTMF frequencies evaluated at once (a small matrix product with numpy, a few
microseconds a packet; a silent packet stops at its energy). The thresholds follow ITU-T
Q.24 and what detectors in service use (Asterisk's dsp.c, spandsp):

- each tone at least -30 dBm0 (Q.24 asks for operation down to about -25 dBm0 per tone);
- twist: the high-group tone at most 8 dB below the low-group one (normal twist) and at most
  4 dB above it (reverse twist);
- each group's tone 8 dB above the other three of its group, and the two tones together
  at least 40% of the block's energy: speech and music, spread over many frequencies, fail;
- a key counts once it has sounded 40 ms (Q.24's shortest digit) in blocks one after
  another, measured in quarter blocks (a tone may start or end inside a packet), and the
  next key only after two blocks without it (a 40 ms pause): a dropout of one block inside
  a long tone is not a second key.

A 20 ms block resolves about 50 Hz: tones off by Q.24's ±1.5% are detected (at most 4 dB
weaker), while tones 3.5% off are weakened by about as much rather than refused outright,
so the frequency limit is looser than Q.24's at the top of the high group.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.g711 import decode_table

RATE = 8000
ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
# 0 dBm0 is a sine of amplitude ~22,700 in 16-bit linear G.711 (full scale is +3.17 dBm0).
MIN_AMPLITUDE = 22_700 * 10 ** (-30 / 20)
NORMAL_TWIST = 10 ** (8 / 10)  # low group stronger
REVERSE_TWIST = 10 ** (4 / 10)  # high group stronger
RELATIVE_PEAK = 10 ** (8 / 10)
TONE_SHARE = 0.4
# A key counts once it has sounded this long (Q.24's shortest digit is 40 ms; the quarter
# block of measuring error is allowed for), in blocks one after another.
MIN_MS = 35.0
GAP = 2  # blocks without it before the next key counts (a 40 ms pause)


@cache
def _pcm_table(payload_type: int) -> npt.NDArray[np.float64]:
    return np.array(decode_table(payload_type), dtype=np.float64)


@cache
def _basis(length: int) -> npt.NDArray[np.float64]:
    """cos and sin of ωn for the eight frequencies over a block of `length` samples (real
    rows: one real matrix product gives every frequency's two parts)."""
    freqs = np.array(ROWS + COLS)
    phase = 2 * np.pi * np.outer(freqs, np.arange(length)) / RATE
    return np.vstack([np.cos(phase), np.sin(phase)])


def classify(samples: npt.NDArray[np.float64]) -> tuple[str, float] | None:
    """The key whose two tones this block holds, by the thresholds above, and how many
    milliseconds of the block it fills (in quarters); else None."""
    length = len(samples)
    squares = samples * samples
    energy = float(squares.sum())
    # Each tone of amplitude A carries L*A²/2: both at the minimum level make the floor.
    floor = length * MIN_AMPLITUDE**2 / 2
    if length == 0 or energy < 2 * floor:
        return None
    # |X|² of a sine of amplitude A over L samples is (L*A/2)²; 2|X|²/L is its energy.
    parts = _basis(length) @ samples
    tone = ((parts[:8] ** 2 + parts[8:] ** 2) * (2 / length)).tolist()
    rows, cols = tone[:4], tone[4:]
    low, high = max(rows), max(cols)
    if low < floor or high < floor or low + high < TONE_SHARE * energy:
        return None
    if high > low * REVERSE_TWIST or low > high * NORMAL_TWIST:
        return None
    if sorted(rows)[-2] * RELATIVE_PEAK > low or sorted(cols)[-2] * RELATIVE_PEAK > high:
        return None
    # A tone starting or ending inside the block fills only some of its quarters.
    quarters = squares[: length // 4 * 4].reshape(4, -1).sum(axis=1)
    filled = int((quarters >= quarters.max() / 4).sum())
    return KEYS[rows.index(low)][cols.index(high)], 1000 * length / RATE * filled / 4


class InbandDetector:
    """Fed each G.711 payload the caller sends; reports each key once."""

    def __init__(self, on_digit: Callable[[str], None]) -> None:
        self.on_digit = on_digit
        self._candidate: str | None = None
        self._heard_ms = 0.0  # how long the candidate has sounded, block after block
        self._reported: str | None = None
        self._quiet = GAP

    def payload(self, payload_type: int, payload: bytes) -> None:
        samples = _pcm_table(payload_type)[np.frombuffer(payload, dtype=np.uint8)]
        found = classify(samples)
        key = found[0] if found is not None else None
        if key == self._reported and key is not None:
            self._quiet = 0  # the same tone goes on: not a new key
            return
        self._quiet += 1
        if found is None or key != self._candidate:
            self._candidate, self._heard_ms = key, 0.0
        if self._quiet >= GAP:
            self._reported = None
        if found is None:
            return
        self._heard_ms += found[1]
        if self._heard_ms >= MIN_MS and (self._reported is None or self._quiet >= GAP):
            self._reported, self._quiet = key, 0
            self._candidate, self._heard_ms = None, 0.0
            self.on_digit(found[0])
