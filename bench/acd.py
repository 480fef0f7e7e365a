"""The operator queue's costs on the phone line's event loop (the ACD).

The media design allows no work that could stall the shared 20 ms clock. This measures what
the ACD adds per event, on real loopback UDP sockets:

- relaying one bridged RTP packet (`RtpStream.relay`: parse, re-stamp, `sendto`), against the
  clock's own per-frame send of a prompt (`RtpStream.send_frame`) in the same run;
- the same relay with A-law/μ-law translation;
- checking one REGISTER's digest (`DigestAuth.check`);
- choosing the longest-idle free operator among 200 (`Acd.free`).

From the relay cost it projects the CPU share of a relay of N bridged calls (two directions,
50 packets/s each).

    python bench/acd.py --output bench/results/acd.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import RESULTS_DIR, machine_description, median, pg_dsn
from hotline.agents.service import LineAgent
from hotline.telephony.acd import Acd
from hotline.telephony.media.rtp import RtpStream
from hotline.telephony.sip.digest import DigestAuth, md5, parse_digest
from hotline.telephony.sip.ua import UaConfig, UserAgent


def _timed(fn: Any, n: int, rounds: int) -> float:
    """Median over rounds of the per-call cost in microseconds."""
    costs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(n)
        costs.append((time.perf_counter() - t0) / n * 1e6)
    return round(median(costs) or 0.0, 2)


async def _streams(count: int, pt: int) -> tuple[list[RtpStream], list[Any], socket.socket]:
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
        streams.append(RtpStream(transport, sink.getsockname(), pt))
    return streams, transports, sink


def _drain(sink: socket.socket) -> None:
    try:
        while True:
            sink.recv(2048)
    except BlockingIOError:
        return


async def media_costs(rounds: int) -> dict[str, float]:
    streams, transports, sink = await _streams(50, 8)
    frames = [bytes([0xD5]) * 160] * 1000
    for s in streams:
        s.play(frames)
    packet_a = struct.pack("!BBHII", 0x80, 8, 1, 1000, 7) + bytes(range(160))
    packet_u = struct.pack("!BBHII", 0x80, 0, 1, 1000, 7) + bytes(range(160))

    def relay(n: int, packet: bytes = packet_a) -> None:
        for i in range(n):
            streams[i % 50].relay(packet)
            if i % 500 == 0:
                _drain(sink)

    def relay_translated(n: int) -> None:
        relay(n, packet_u)

    def frame(n: int) -> None:
        for i in range(n):
            streams[i % 50].send_frame()
            if i % 500 == 0:
                _drain(sink)

    # Interleaved rounds, so that load from other jobs on a shared box hits all three alike.
    samples: dict[str, list[float]] = {
        "relay_us": [],
        "relay_translated_us": [],
        "clock_frame_us": [],
    }
    for _ in range(rounds):
        for key, fn in (
            ("relay_us", relay),
            ("relay_translated_us", relay_translated),
            ("clock_frame_us", frame),
        ):
            samples[key].append(_timed(fn, 20_000, 1))
    out = {k: round(median(v) or 0.0, 2) for k, v in samples.items()}
    for t in transports:
        t.close()
    sink.close()
    return out


def digest_cost(rounds: int) -> float:
    auth = DigestAuth("hotline1022")
    nonce = parse_digest(auth.challenge())["nonce"]  # type: ignore[index]
    ha1 = md5("op1:hotline1022:secret")
    response = md5(f"{ha1}:{nonce}:00000001:c:auth:{md5('REGISTER:sip:h')}")
    header = (
        f'Digest username="op1", realm="hotline1022", nonce="{nonce}", uri="sip:h", '
        f'response="{response}", qop=auth, nc=00000001, cnonce="c", algorithm=MD5'
    )
    creds = {"op1": ha1}

    def check(n: int) -> None:
        for _ in range(n):
            auth.check("REGISTER", header, creds.get)

    return _timed(check, 5_000, rounds)


async def choose_cost(rounds: int, operators: int = 200) -> float:
    acd = Acd(UserAgent(UaConfig()), ring_seconds=15)
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    acd.agents = {
        i: LineAgent(
            i,
            ("operator",),
            "available",
            t0 - timedelta(seconds=i),
            None,
            None,
            f"sip:op{i}@127.0.0.1:{6000 + i}",
        )
        for i in range(operators)
    }

    def choose(n: int) -> None:
        for _ in range(n):
            acd.free("operator")

    return _timed(choose, 200, rounds)


async def run(rounds: int) -> dict[str, Any]:
    media = await media_costs(rounds)
    return {
        **media,
        "digest_check_us": digest_cost(rounds),
        "choose_of_200_us": await choose_cost(rounds),
        # Two directions x 50 packets/s per bridged call.
        "relay_cpu_share_200_calls": round(200 * 100 * media["relay_us"] / 1e6, 4),
        "relay_cpu_share_400_calls": round(400 * 100 * media["relay_us"] / 1e6, 4),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "acd.json")
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    started = datetime.now(UTC)
    figures = asyncio.run(run(args.rounds))
    result = {
        "started_at": started.isoformat(),
        "machine": asyncio.run(machine_description(pg_dsn())),
        "config": {"rounds": args.rounds},
        **figures,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
