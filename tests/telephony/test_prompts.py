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
