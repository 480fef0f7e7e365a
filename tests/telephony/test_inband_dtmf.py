"""Keys sent as tones in the audio, for callers without telephone-event: the detector's
thresholds, and a real caller (sipp playing tones) walking the menu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hotline.telephony.media.dtmf import InbandDetector
from tests.telephony.conftest import SCENARIOS, Line
from tests.telephony.inband import frames, g711, silence, tone_pcm, write_pcap


def heard(audio: bytes, payload_type: int = 0) -> str:
    keys: list[str] = []
    detector = InbandDetector(keys.append)
    for frame in frames(audio):
        detector.payload(payload_type, frame)
    return "".join(keys)


@pytest.mark.parametrize("payload_type", [0, 8])
def test_every_key_is_heard_once_in_either_law(payload_type: int):
    keys = "0123456789*#ABCD"
    audio = b"".join(g711(tone_pcm(k, 70), payload_type) + silence(60, payload_type) for k in keys)
    assert heard(audio, payload_type) == keys


def test_a_long_key_is_one_key_and_a_repeated_key_after_a_pause_is_two():
    assert heard(g711(tone_pcm("5", 600)) + silence(60)) == "5"
    pause = silence(45)
    assert heard(g711(tone_pcm("7", 60)) + pause + g711(tone_pcm("7", 60)) + pause) == "77"


def test_a_tone_shorter_than_the_shortest_digit_is_not_a_key():
    assert heard(silence(10) + g711(tone_pcm("3", 20)) + silence(100)) == ""
    # 40 ms, wherever it falls across the 20 ms packets, is a key.
    for offset in (0, 5, 10, 15):
        assert heard(silence(offset) + g711(tone_pcm("3", 42)) + silence(100)) == "3"


@pytest.mark.parametrize(
    ("high_db", "key"), [(-7.0, "9"), (3.0, "9"), (-10.0, ""), (6.0, "")], ids=str
)
def test_twist_limits(high_db: float, key: str):
    """The high tone may be up to 8 dB weaker (normal twist) or 4 dB stronger (reverse)."""
    low = tone_pcm("9", 80, amplitude=0)  # silence, for the length
    t = np.arange(len(low) // 2)
    pcm = 6000 * np.sin(2 * np.pi * 852 * t / 8000)
    pcm += 6000 * 10 ** (high_db / 20) * np.sin(2 * np.pi * 1477 * t / 8000)
    audio = g711(pcm.astype("<i2").tobytes()) + silence(60)
    assert heard(audio) == key


def test_off_frequency_weak_and_noisy_audio_is_not_a_key():
    assert heard(g711(tone_pcm("1", 80, deviation=0.015)) + silence(60)) == "1"
    assert heard(g711(tone_pcm("1", 80, deviation=0.05)) + silence(60)) == ""
    assert heard(g711(tone_pcm("1", 80, amplitude=500)) + silence(60)) == ""  # about -36 dBm0
    rng = np.random.default_rng(1022)
    noise = rng.normal(0, 4000, 8000 * 10).clip(-32000, 32000).astype("<i2").tobytes()
    assert heard(g711(noise)) == ""
    # A single tone (a dial tone, a whistle) is not a key either.
    t = np.arange(8000)
    whistle = (8000 * np.sin(2 * np.pi * 941 * t / 8000)).astype("<i2").tobytes()
    assert heard(g711(whistle)) == ""


@pytest.mark.anyio
async def test_caller_without_telephone_event_walks_the_menu_with_tones(line: Line, tmp_path: Path):
    """A wrong key (9) heard as tones while the greeting plays, then 2: REFER to the CDC."""
    pcap = tmp_path / "keys_9_2.pcap"
    audio = silence(300) + g711(tone_pcm("9", 100)) + silence(700)
    audio += g711(tone_pcm("2", 100)) + silence(1000)
    write_pcap(pcap, audio)
    template = (SCENARIOS / "inband_keys_refer_cdc.xml").read_text()
    scenario = tmp_path / "inband_keys_refer_cdc.xml"
    scenario.write_text(template.replace("INBAND_PCAP", str(pcap)))
    result = await line.sipp(str(scenario))
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert (call.menu_path, call.branch) == ("92", "cdc")
    assert call.outcome is not None and call.outcome.value == "transferred_cdc"
