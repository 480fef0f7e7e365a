"""Built-in Vietnamese prompts: espeak-ng, resampled by sox, cached, pre-encoded to frames.

Synthesis happens once at set-up (`PromptSet.build`), never per call. The robotic espeak voice
is the built-in default; recorded WAV prompts, uploaded by an administrator
(phoneconfig/uploads.py), are the production choice.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from hotline.telephony.media.g711 import encode
from hotline.telephony.media.rtp import SAMPLES_PER_FRAME
from hotline.telephony.sip.sdp import PCMA, PCMU

log = structlog.get_logger("hotline.telephony.prompts")
RATE = 8000
# Bumped when the synthesis pipeline changes, so old cached files are not reused.
PIPELINE = "espeak-ng vi | sox 8k mono sinc 100-3400 v1"
DIGIT_WORDS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def spell_digits(text: str) -> str:
    """'1022' -> 'một không hai hai': espeak would read it as a quantity."""
    return re.sub(r"\d+", lambda m: " ".join(DIGIT_WORDS[int(d)] for d in m.group()), text)


@dataclass(frozen=True)
class Prompt:
    """One prompt, pre-encoded as 20 ms frames per payload type."""

    name: str
    frames: dict[int, tuple[bytes, ...]]

    @classmethod
    def from_pcm(cls, name: str, pcm: bytes) -> Prompt:
        frame_bytes = SAMPLES_PER_FRAME * 2
        if len(pcm) % frame_bytes:
            pcm += b"\0" * (frame_bytes - len(pcm) % frame_bytes)
        frames = {}
        for pt in (PCMU, PCMA):
            coded = encode(pcm, pt)
            frames[pt] = tuple(
                coded[i : i + SAMPLES_PER_FRAME] for i in range(0, len(coded), SAMPLES_PER_FRAME)
            )
        return cls(name, frames)

    @property
    def seconds(self) -> float:
        return len(self.frames[PCMU]) * SAMPLES_PER_FRAME / RATE


def silence(name: str, seconds: float) -> Prompt:
    return Prompt.from_pcm(name, b"\0\0" * int(RATE * seconds))


# A pentatonic phrase (C E G A G E D C): soft notes that tell a waiting caller the line is
# still there, pleasant on repeat and well inside the telephone band.
HOLD_NOTES = (523.25, 659.25, 783.99, 880.0, 783.99, 659.25, 587.33, 523.25)


def hold_music(name: str, seconds: float = 2.0) -> Prompt:
    """Hold audio made here (no tools needed): the phrase above, each note with a short fade
    in and out so notes do not click; quiet (about -20 dBFS) under the announcements."""
    n = int(RATE * seconds)
    per_note = n // len(HOLD_NOTES)
    fade = RATE // 50  # 20 ms
    samples = []
    for hz in HOLD_NOTES:
        for i in range(per_note):
            envelope = min(1.0, i / fade, (per_note - i) / fade)
            samples.append(int(3000 * envelope * math.sin(2 * math.pi * hz * i / RATE)))
    samples += [0] * (n - len(samples))
    return Prompt.from_pcm(name, struct.pack(f"<{n}h", *samples))


def tone(name: str, seconds: float, hz: float = 440.0) -> Prompt:
    """A soft tone: the stand-in when espeak-ng or sox is missing, so the line still works."""
    n = int(RATE * seconds)
    samples = (int(3000 * math.sin(2 * math.pi * hz * i / RATE)) for i in range(n))
    return Prompt.from_pcm(name, struct.pack(f"<{n}h", *samples))


def synthesise(text: str, cache_dir: Path, *, voice: str = "vi") -> bytes:
    """8 kHz mono 16-bit PCM for the text, from the cache or made now."""
    spoken = spell_digits(text)
    key = hashlib.sha256(f"{PIPELINE}|{voice}|{spoken}".encode()).hexdigest()[:24]
    path = cache_dir / f"{key}.raw"
    if path.exists():
        return path.read_bytes()
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if not espeak or not sox:
        raise FileNotFoundError("espeak-ng and sox are needed to synthesise prompts")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([espeak, "-v", voice, "-w", str(wav), spoken], check=True, timeout=60)
        raw = Path(tmp) / "speech.raw"
        subprocess.run(
            [
                sox,
                str(wav),
                "-r",
                str(RATE),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                "-L",
                "-t",
                "raw",
                str(raw),
                "sinc",
                "100-3400",
            ],
            check=True,
            timeout=60,
        )
        data = raw.read_bytes()
    tmp_path = path.with_suffix(".tmp")
    tmp_path.write_bytes(data)
    tmp_path.replace(path)  # atomic, so two processes starting at once never read half a file
    return data


class PromptSet:
    """Prompts by name, all built before the first call."""

    def __init__(self, prompts: dict[str, Prompt]) -> None:
        self.prompts = prompts

    def __getitem__(self, name: str) -> Prompt:
        return self.prompts[name]

    def __contains__(self, name: object) -> bool:
        return name in self.prompts

    @classmethod
    def build(
        cls, texts: Iterable[tuple[str, str]], cache_dir: Path, *, voice: str = "vi"
    ) -> PromptSet:
        prompts: dict[str, Prompt] = {"hold": hold_music("hold", 2.0)}
        for name, text in texts:
            try:
                prompts[name] = Prompt.from_pcm(name, synthesise(text, cache_dir, voice=voice))
            except (OSError, subprocess.SubprocessError) as exc:
                log.warning("prompt_synthesis_failed", prompt=name, error=str(exc))
                prompts[name] = tone(name, 0.5)
        return cls(prompts)
