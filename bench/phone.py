"""Configuration reloads and call recording on the phone line's event loop.

Neither may delay the shared 20 ms media clock. This measures, on real loopback UDP sockets:

- the recording taps: the clock's per-frame send with and without a recording attached;
- writing a recorded call's WAV (decode both channels, write, SHA-256), per minute of call;
  this runs in a thread at the call's end, never on the loop;
- building a configuration snapshot (all built-in prompts) cold (espeak-ng + sox) and warm
  (cache hit): also in a thread;
- the media clock's tick gaps with 200 streams playing, while idle and while snapshots are
  rebuilt (cold) in a thread over and over: the reload's effect on audio timing.

    python bench/phone.py --output bench/results/phone.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import RESULTS_DIR, machine_description, median, pg_dsn
from hotline.phoneconfig.defaults import default_config
from hotline.settings import Settings
from hotline.telephony.media.rtp import FRAME_SECONDS, MediaClock, RtpStream
from hotline.telephony.prompts import tone
from hotline.telephony.recording import CallAudio
from hotline.telephony.sip.sdp import PCMU
from hotline.telephony.switchboard import build_snapshot

STREAMS = 200


async def _streams(count: int) -> tuple[list[RtpStream], list[Any], socket.socket]:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    loop = asyncio.get_running_loop()
    streams, transports = [], []
    for _ in range(count):
        transport, _proto = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
        streams.append(RtpStream(transport, sink.getsockname(), PCMU))
    return streams, transports, sink


def _per_frame_us(stream: RtpStream, frames: tuple[bytes, ...], n: int) -> float:
    stream.play(frames)
    t0 = time.perf_counter()
    for _ in range(n):
        stream.send_frame()
    return (time.perf_counter() - t0) / n * 1e6


async def tap_cost(rounds: int) -> dict[str, float]:
    streams, transports, sink = await _streams(1)
    frames = tone("t", 600.0).frames[PCMU]
    plain, tapped = [], []
    for _ in range(rounds):
        stream = streams[0]
        stream.tap = None
        plain.append(_per_frame_us(stream, frames, 20_000))
        audio = CallAudio(max_seconds=3600)
        stream.tap = audio.said
        tapped.append(_per_frame_us(stream, frames, 20_000))
        stream.tap = None
    for t in transports:
        t.close()
    sink.close()
    return {
        "clock_frame_us": round(median(plain) or 0.0, 2),
        "clock_frame_recorded_us": round(median(tapped) or 0.0, 2),
    }


def wav_write_ms_per_minute(rounds: int) -> float:
    minutes = 5
    frames = int(minutes * 60 / FRAME_SECONDS)
    costs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            now = [0.0]
            audio = CallAudio(max_seconds=3600, clock=lambda now=now: now[0])
            payload = bytes(range(160))
            packet = bytes([0x80, PCMU, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) + payload
            for i in range(frames):
                now[0] = i * FRAME_SECONDS
                audio.said(PCMU, payload)
                audio.heard(packet)
            t0 = time.perf_counter()
            audio.write(Path(tmp))
            costs.append((time.perf_counter() - t0) * 1000 / minutes)
    return round(median(costs) or 0.0, 1)


def snapshot_ms(settings: Settings) -> dict[str, float]:
    config = default_config(settings)
    tz = ZoneInfo(settings.timezone)
    t0 = time.perf_counter()
    build_snapshot(config, 1, settings=settings, timezone=tz)
    cold = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    build_snapshot(config, 1, settings=settings, timezone=tz)
    warm = (time.perf_counter() - t0) * 1000
    return {"snapshot_cold_ms": round(cold, 1), "snapshot_warm_ms": round(warm, 1)}


class TickProbe:
    """Stands in for a stream; records when the clock served it."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.loop = asyncio.get_running_loop()

    def send_frame(self) -> None:
        self.times.append(self.loop.time())

    def stop(self) -> None:
        pass

    def gaps_ms(self) -> list[float]:
        return [(b - a) * 1000 for a, b in zip(self.times, self.times[1:], strict=False)]


async def clock_gaps(seconds: float, reload: bool, var: Path) -> dict[str, float]:
    streams, transports, sink = await _streams(STREAMS)
    prompt = tone("menu", seconds + 2).frames[PCMU]
    clock = MediaClock()
    probe = TickProbe()
    for s in streams:
        s.play(prompt)
        clock.streams.add(s)
    clock.streams.add(probe)  # type: ignore[arg-type]
    clock.start()
    reloads = 0
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if reload:
            # A fresh prompts directory each time: every prompt synthesised again (cold).
            settings = Settings(var_dir=var / f"r{reloads}", timezone="Asia/Ho_Chi_Minh")
            await asyncio.to_thread(
                build_snapshot,
                default_config(settings),
                reloads,
                settings=settings,
                timezone=ZoneInfo(settings.timezone),
            )
            reloads += 1
        else:
            await asyncio.sleep(0.1)
    await clock.stop()
    for t in transports:
        t.close()
    sink.close()
    gaps = sorted(probe.gaps_ms())
    return {
        "ticks": len(gaps),
        "reloads": reloads,
        "gap_p50_ms": round(gaps[len(gaps) // 2], 2),
        "gap_p99_ms": round(gaps[int(len(gaps) * 0.99)], 2),
        "gap_max_ms": round(gaps[-1], 2),
        "late_ticks": clock.late_ticks,
    }


async def run(rounds: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out.update(await tap_cost(rounds))
    out["wav_write_ms_per_call_minute"] = wav_write_ms_per_minute(rounds)
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        out.update(snapshot_ms(Settings(var_dir=var / "snap")))
        out["clock_idle"] = await clock_gaps(seconds, False, var)
        out["clock_reloading"] = await clock_gaps(seconds, True, var)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "phone.json")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    started = datetime.now(UTC).isoformat()
    figures = asyncio.run(run(args.rounds, args.seconds))
    result = {
        "started_at": started,
        "machine": asyncio.run(machine_description(pg_dsn())),
        "config": {"rounds": args.rounds, "seconds": args.seconds, "streams": STREAMS},
        **figures,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
