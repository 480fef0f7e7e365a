"""Prompts are synthesised once, cached by text, and the line still starts without espeak-ng."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.telephony import prompts
from hotline.telephony.prompts import PromptSet
from tests.conftest import missing_tool


@pytest.fixture
def tools() -> None:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        missing_tool("espeak-ng and sox are not installed (make debian-test-deps)")


def test_prompt_is_synthesised_once_then_read_from_the_cache(tmp_path: Path, tools, monkeypatch):
    first = PromptSet.build([("greeting", "Tổng đài 1022 xin nghe")], tmp_path)
    [cached] = list(tmp_path.glob("*.raw"))
    # 8 kHz, 16-bit mono: a few seconds of speech is tens of kilobytes, not hundreds.
    assert 8000 < cached.stat().st_size < 8000 * 2 * 6
    monkeypatch.setattr(prompts.shutil, "which", lambda name: None)
    again = PromptSet.build([("greeting", "Tổng đài 1022 xin nghe")], tmp_path)
    assert again["greeting"].frames == first["greeting"].frames


def test_missing_tools_give_a_tone_instead_of_a_crash(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(prompts.shutil, "which", lambda name: None)
    built = PromptSet.build([("greeting", "xin chào")], tmp_path)
    assert built["greeting"].seconds == pytest.approx(0.5, abs=0.03)
    assert built["hold"].seconds == pytest.approx(2.0, abs=0.03)


def test_hold_audio_is_a_soft_melody_not_silence(tmp_path: Path):
    import struct
    from itertools import pairwise

    from hotline.telephony.media.g711 import decode

    built = PromptSet.build([], tmp_path)
    pcm = b"".join(decode(f, 0) for f in built["hold"].frames[0])
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    peak = max(abs(x) for x in samples)
    assert 1500 < peak < 8000  # audible, well below full scale
    # the notes change: the busiest and the quietest 100 ms differ in pitch (zero crossings)
    crossings = [
        sum(1 for a, b in pairwise(chunk) if (a < 0) != (b < 0))
        for chunk in (samples[i : i + 800] for i in range(0, len(samples) - 800, 800))
    ]
    assert max(crossings) > min(crossings) * 1.3
