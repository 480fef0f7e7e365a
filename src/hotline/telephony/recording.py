"""Call recording: frames kept in memory during the call, one WAV written in a thread after.

The RTP taps only append (first sample, payload type, payload) to a list: no decoding, no
I/O on the media path. At the call's end `write` (run in a thread by the call recorder)
decodes G.711, lays each frame where it arrived and writes a two-channel WAV: left what the
caller said, right what the caller heard (prompts, then the operator once bridged).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import sys
import wave
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.recordings.service import RecordedFile
from hotline.telephony.media.g711 import decode
from hotline.telephony.media.rtp import SAMPLES_PER_FRAME, rtp_payload
from hotline.telephony.sip.sdp import PCMA, PCMU

if TYPE_CHECKING:
    from hotline.telephony.sip.leg import SipLeg

RATE = 8000
G711 = (PCMU, PCMA)
Frame = tuple[int, int, bytes]  # (first sample, payload type, payload)
# A frame arriving within this many samples of where the previous one ended is laid right
# after it (network jitter); later than that, the gap between them is kept (lost packets, a
# pause in the caller's stream).
JITTER = 2 * SAMPLES_PER_FRAME


class CallAudio:
    """One call's recording in progress; attached to a leg's RTP in both directions."""

    def __init__(self, *, max_seconds: float, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or asyncio.get_running_loop().time
        self.t0 = self.clock()
        self.max_samples = int(max_seconds * RATE)
        self.channels: tuple[list[Frame], list[Frame]] = ([], [])
        self._next = [0, 0]  # per channel, the sample after the last frame laid
        self._leg: SipLeg | None = None

    def attach(self, leg: SipLeg) -> None:
        self._leg = leg
        leg.rtp.tap = self.heard
        leg.stream.tap = self.said

    def detach(self) -> None:
        if self._leg is not None:
            self._leg.rtp.tap = None
            self._leg.stream.tap = None
            self._leg = None

    def _add(self, channel: int, pt: int, payload: bytes) -> None:
        # Laid by the payload's length, not by a 20 ms slot: callers may send 30 ms packets.
        arrived = int((self.clock() - self.t0) * RATE)
        start = self._next[channel]
        if arrived >= start + JITTER:
            start = arrived
        if start >= self.max_samples:
            return
        self._next[channel] = start + len(payload)
        self.channels[channel].append((start, pt, payload))

    def heard(self, packet: bytes) -> None:
        """A packet from the caller (telephone-events and comfort noise are not audio)."""
        parsed = rtp_payload(packet)
        if parsed is not None and parsed[0] in G711:
            self._add(0, parsed[0], parsed[2])

    def said(self, pt: int, payload: bytes) -> None:
        if pt in G711:
            self._add(1, pt, payload)

    def write(self, directory: Path) -> RecordedFile | None:
        """Decode and write the WAV (blocking: call it in a thread); None if nothing was heard."""
        self.detach()
        end = max(
            (start + len(p) for frames in self.channels for start, _pt, p in frames),
            default=0,
        )
        if end == 0:
            return None
        tracks = []
        for frames in self.channels:
            track = array("h", bytes(2 * end))
            for start, pt, payload in frames:
                track[start : start + len(payload)] = array("h", decode(payload, pt))
            tracks.append(track)
        stereo = array("h", bytes(4 * end))
        stereo[0::2], stereo[1::2] = tracks[0], tracks[1]
        if sys.byteorder == "big":  # WAV is little-endian
            stereo.byteswap()
        directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(20) + ".wav"
        path = directory / name
        tmp = path.with_suffix(".part")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(stereo.tobytes())
        data = tmp.read_bytes()
        os.replace(tmp, path)
        return RecordedFile(
            storage_name=name,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            seconds=round(end / RATE, 2),
            channels=2,
        )
