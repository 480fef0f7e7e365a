"""Phone-line benchmark: one `hotline sip` process, 400 calls at once, 3,000 calls, RTP timing.

    python bench/sip_calls.py                         # target sizes (about 5 minutes)
    python bench/sip_calls.py --calls 400 --concurrency 100 --baseline-calls 0   # smoke
    python bench/sip_calls.py --rt-priority 20        # the line and sipp under chrt -r 20

Scheduling is normal (no real-time priority) unless `--rt-priority` says otherwise: the
targets must hold without chrt, and `make bench` runs it so.

The product is the real process (`python -m hotline.cli sip`, PostgreSQL database
`hotline_bench_sip`, fresh each run, the default Vietnamese menu and prompts). sipp is the
trunk: `tests/telephony/scenarios/call_hold_hangup.xml`, each caller stays `--hold` seconds
in the menu and then the queue (greeting, repeats, queue announcement, hold audio: the line
sends a frame every 20 ms the whole time) and hangs up. The rate is set above what the
concurrency limit lets through, so sipp keeps `--concurrency` calls up at once.

Measured:
- calls: successful/failed from sipp's final statistics (`-trace_stat`) and its exit code,
  peak calls at once;
- INVITE → 200 OK: sipp's response time 1 for every call (`-trace_rtt`);
- RTP timing: `dumpcap` captures every packet the line sends (loopback, capture filter on
  the line's RTP port range, 64-byte snapshots); per stream (SSRC) the gaps between
  consecutive packets' capture times, which on loopback are their send times;
- CPU of the line process (from /proc), and the load average before and after.

Baseline in the same run, per the repository's convention: the same process first carries
`--baseline-concurrency` (50) calls at once; the targets compare against it and against the
ideal 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import REPO_ROOT, RESULTS_DIR, fmt, machine_description, median, pg_dsn
from datagen import db_url, migrate_and_bootstrap, pg_create_database, pg_drop_database

DB_NAME = "hotline_bench_sip"
SCENARIO = REPO_ROOT / "tests" / "telephony" / "scenarios" / "call_hold_hangup.xml"
SIP_PORT = 5380
RTP_PORTS = (24000, 25998)  # 1,000 even ports: room for 400 calls and slow releases
TARGETS = {"p99_invite_ms": 20.0, "p99_gap_ms": 25.0, "max_gap_ms": 40.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="runs (fresh database and line each)")
    p.add_argument("--calls", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=400)
    p.add_argument("--hold", type=float, default=25.0, help="seconds each caller stays")
    p.add_argument("--baseline-calls", type=int, default=150)
    p.add_argument("--baseline-concurrency", type=int, default=50)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "sip_calls.json")
    # The deployed configuration without real-time scheduling is the default: the targets
    # must hold without chrt. A positive value measures the chrt deployment instead.
    p.add_argument(
        "--rt-priority",
        type=int,
        default=0,
        help="run the line and sipp with SCHED_RR at this priority (default 0: normal "
        "scheduling, the target configuration; >0 needs root)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work dir (pcaps, sipp files)")
    return p.parse_args(argv)


# -- the line process -----------------------------------------------------------------------
RT_PRIORITY = 0  # set by main() from --rt-priority


def rt_prefix() -> list[str]:
    """`chrt -r N`: real-time round-robin scheduling, as a media server is deployed."""
    return ["chrt", "-r", str(RT_PRIORITY)] if RT_PRIORITY else []


def start_line(url: str, work: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO_ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "HOTLINE_DATABASE_URL": url,
        # The repository's var dir: the prompt cache survives between runs.
        "HOTLINE_VAR_DIR": str(REPO_ROOT / "var" / "bench"),
        "HOTLINE_SIP_RTP_PORT_MIN": str(RTP_PORTS[0]),
        "HOTLINE_SIP_RTP_PORT_MAX": str(RTP_PORTS[1]),
        "HOTLINE_SIP_MAX_CALLS": "1000",
    }
    cmd = [sys.executable, "-m", "hotline.cli", "sip", "--host", "127.0.0.1"]
    cmd = [*rt_prefix(), *cmd]
    with (work / "line.log").open("wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--port", str(SIP_PORT)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 120  # the first run synthesises the prompts
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"hotline sip exited: {(work / 'line.log').read_text()[-2000:]}")
        if b"sip_listening" in (work / "line.log").read_bytes():
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("hotline sip did not start")


class CpuSampler:
    """CPU use of one process, sampled every second from /proc (percent of one core), and
    the machine's steal time each second (a virtual machine's CPUs taken by its host: the
    line stops then, whatever its code does), in ms summed over the CPUs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[float] = []
        self.steal_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ticks(self) -> int:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    @staticmethod
    def _steal() -> int:
        return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])

    def _run(self) -> None:
        hz = os.sysconf("SC_CLK_TCK")
        last, t0, steal = self._ticks(), time.monotonic(), self._steal()
        while not self._stop.wait(1.0):
            try:
                now_ticks = self._ticks()
            except OSError:
                return
            now, now_steal = time.monotonic(), self._steal()
            self.samples.append(100.0 * (now_ticks - last) / hz / (now - t0))
            self.steal_ms.append(1000.0 * (now_steal - steal) / hz)
            last, t0, steal = now_ticks, now, now_steal

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def percentiles(ordered: list[float]) -> Callable[[float], float | None]:
    """Nearest-rank percentile of an already sorted list (None when empty)."""

    def pct(q: float) -> float | None:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None

    return pct


# -- capture --------------------------------------------------------------------------------
def start_capture(pcap: Path) -> subprocess.Popen[bytes]:
    low, high = RTP_PORTS
    proc = subprocess.Popen(
        [
            *("dumpcap", "-q", "-i", "lo", "-s", "64", "-B", "64", "-P", "-w", str(pcap)),
            *("-f", f"udp and src host 127.0.0.1 and src portrange {low}-{high + 1}"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)  # dumpcap needs a moment before it captures
    if proc.poll() is not None:
        raise SystemExit(f"dumpcap failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return proc


def stop_capture(proc: subprocess.Popen[bytes]) -> str:
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return err.decode("utf-8", "replace")


def rtp_gaps(pcap: Path) -> dict[str, Any]:
    """Inter-packet gaps per SSRC from a classic pcap of the line's RTP (Ethernet on lo)."""
    data = pcap.read_bytes()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic == 0xA1B2C3D4:
        scale = 1e-6
    elif magic == 0xA1B23C4D:
        scale = 1e-9
    else:
        raise SystemExit(f"not a little-endian classic pcap: {pcap}")
    last: dict[int, float] = {}
    gaps = array("d")
    per_stream_max: dict[int, float] = {}
    offset, n = 24, 0
    rec = struct.Struct("<IIII")
    while offset + 16 <= len(data):
        sec, frac, incl, _orig = rec.unpack_from(data, offset)
        pkt = offset + 16
        offset = pkt + incl
        ihl = (data[pkt + 14] & 0x0F) * 4
        rtp = pkt + 14 + ihl + 8
        if rtp + 12 > offset or data[rtp] >> 6 != 2:
            continue
        n += 1
        ssrc = struct.unpack_from("!I", data, rtp + 8)[0]
        t = sec + frac * scale
        prev = last.get(ssrc)
        last[ssrc] = t
        if prev is not None:
            gap = (t - prev) * 1000.0
            gaps.append(gap)
            if gap > per_stream_max.get(ssrc, 0.0):
                per_stream_max[ssrc] = gap
    ordered = sorted(gaps)
    pct = percentiles(ordered)
    return {
        "packets": n,
        "streams": len(last),
        "gaps": len(ordered),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": ordered[-1] if ordered else None,
        "over_25ms": sum(1 for g in ordered if g > 25.0),
        "over_40ms": sum(1 for g in ordered if g > 40.0),
        "streams_with_gap_over_40ms": sum(1 for g in per_stream_max.values() if g > 40.0),
    }


# -- sipp -----------------------------------------------------------------------------------
def run_sipp(work: Path, name: str, calls: int, concurrency: int, hold: float) -> dict[str, Any]:
    run_dir = work / name
    run_dir.mkdir()
    rate = max(1.0, concurrency / hold * 1.25)  # above what the limit lets through
    cmd = [
        *rt_prefix(),
        *("sipp", f"127.0.0.1:{SIP_PORT}", "-sf", str(SCENARIO)),
        *("-m", str(calls), "-l", str(concurrency), "-r", f"{rate:.2f}"),
        *("-d", str(int(hold * 1000)), "-i", "127.0.0.1", "-p", "5390", "-mp", "6100"),
        *("-timeout", f"{int(calls / rate + hold * 4 + 120)}s", "-timeout_error"),
        *("-recv_timeout", "40000", "-nostdin"),
        *("-trace_stat", "-stf", str(run_dir / "stat.csv"), "-fd", "1"),
        *("-trace_rtt", "-rtt_freq", "100", "-trace_err", "-error_file", str(run_dir / "err.log")),
        *("-max_socket", "2000"),
    ]
    t0 = time.monotonic()
    result = subprocess.run(cmd, cwd=run_dir, capture_output=True, text=True)
    took = time.monotonic() - t0
    (run_dir / "sipp.out").write_text(result.stdout + result.stderr)
    rows = list(csv.DictReader((run_dir / "stat.csv").open(), delimiter=";"))
    final = rows[-1]
    peak = max(int(r["CurrentCall"]) for r in rows)
    rtts = array("d")
    for path in run_dir.glob("*_rtt.csv"):
        for row in csv.reader(path.open(), delimiter=";"):
            if row and row[0][:1].isdigit():
                rtts.append(float(row[1]))
    ordered = sorted(rtts)
    pct = percentiles(ordered)
    return {
        "calls": calls,
        "concurrency": concurrency,
        "rate_cps": round(rate, 2),
        "hold_s": hold,
        "wall_s": round(took, 1),
        "sipp_exit": result.returncode,
        "successful": int(final["SuccessfulCall(C)"]),
        "failed": int(final["FailedCall(C)"]),
        "peak_concurrent": peak,
        "invite_200": {
            "n": len(ordered),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": ordered[-1] if ordered else None,
        },
    }


def measure(
    work: Path, line: subprocess.Popen[bytes], name: str, calls: int, conc: int, hold: float
) -> dict[str, Any]:
    print(f"[sip] {name}: {calls} calls, {conc} at once, {hold:g} s each", flush=True)
    pcap = work / f"{name}.pcap"
    load_before = os.getloadavg()[0]
    capture = start_capture(pcap)
    with CpuSampler(line.pid) as cpu:
        calls_result = run_sipp(work, name, calls, conc, hold)
    capture_log = stop_capture(capture)
    samples = cpu.samples
    steady = samples[int(len(samples) * 0.2) : int(len(samples) * 0.8)] or samples
    gaps = rtp_gaps(pcap)
    if not os.environ.get("BENCH_KEEP_PCAP"):
        pcap.unlink()
    result = {
        **calls_result,
        "rtp": gaps,
        "capture": capture_log.strip().splitlines()[-3:],
        "cpu_percent": {
            "avg": sum(steady) / len(steady) if steady else None,
            "peak": max(samples) if samples else None,
        },
        "loadavg_1m": {"before": load_before, "after": os.getloadavg()[0]},
        "steal_ms": {
            "total": sum(cpu.steal_ms),
            "largest_second": max(cpu.steal_ms, default=0.0),
            "seconds_with_steal": sum(1 for v in cpu.steal_ms if v > 0),
        },
    }
    g, r = gaps, calls_result["invite_200"]
    print(
        f"[sip] {name}: ok {result['successful']} failed {result['failed']}"
        f" peak {result['peak_concurrent']}; INVITE→200 p50 {fmt(r['p50_ms'], 2)}"
        f" p99 {fmt(r['p99_ms'], 2)} max {fmt(r['max_ms'], 2)} ms; RTP gaps p50"
        f" {fmt(g['p50_ms'], 2)} p99 {fmt(g['p99_ms'], 2)} max {fmt(g['max_ms'], 2)} ms,"
        f" >40 ms: {g['over_40ms']}; CPU avg {fmt(result['cpu_percent']['avg'])} %;"
        f" steal {fmt(result['steal_ms']['total'])} ms",
        flush=True,
    )
    return result


def verdict(run: dict[str, Any]) -> dict[str, bool | None]:
    r, g = run["invite_200"], run["rtp"]
    return {
        "no_failures": run["failed"] == 0 and run["sipp_exit"] == 0,
        "all_calls": run["successful"] == run["calls"],
        "concurrency_reached": run["peak_concurrent"] >= run["concurrency"],
        "invite_p99": r["p99_ms"] is not None and r["p99_ms"] <= TARGETS["p99_invite_ms"],
        "gap_p99": g["p99_ms"] is not None and g["p99_ms"] <= TARGETS["p99_gap_ms"],
        "no_gap_over_40ms": g["over_40ms"] == 0,
    }


def one_run(args: argparse.Namespace, dsn: str, url: str) -> dict[str, Any]:
    """One run: a fresh database and line process, the baseline, then the target load."""
    asyncio.run(pg_create_database(dsn, DB_NAME))
    migrate_and_bootstrap(url)
    work = Path(tempfile.mkdtemp(prefix="bench-sip-"))
    line = start_line(url, work)
    runs: dict[str, Any] = {}
    try:
        if args.baseline_calls:
            runs["baseline"] = measure(
                work, line, "baseline", args.baseline_calls, args.baseline_concurrency, args.hold
            )
        runs["product"] = measure(work, line, "product", args.calls, args.concurrency, args.hold)
    finally:
        line.send_signal(signal.SIGTERM)
        try:
            line.wait(timeout=60)
        except subprocess.TimeoutExpired:
            line.kill()
    log_lines = (work / "line.log").read_text().splitlines()
    errors = [ln for ln in log_lines if "error" in ln.lower()][:20]
    gc_stats = next((ln for ln in log_lines if "sip_gc" in ln), None)
    # Ticks sent over 10 ms late, with the loop thread's CPU and context switches meanwhile.
    stalls = [ln for ln in log_lines if "media_stall" in ln]
    records = asyncio.run(_count_calls(url))
    asyncio.run(pg_drop_database(dsn, DB_NAME))
    print(f"[sip] work dir {work}")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return {
        "baseline": runs.get("baseline"),
        "product": runs["product"],
        "call_records": records,
        "line_errors_logged": errors,
        "line_gc": gc_stats,
        "line_stalls": stalls[:50],
        "line_stall_count": len(stalls),
        "verdict": verdict(runs["product"]),
    }


def medians(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Each target's figure, the median over the runs."""
    products = [r["product"] for r in runs]
    return {
        "failed": median([p["failed"] for p in products]),
        "p99_invite_ms": median([p["invite_200"]["p99_ms"] for p in products]),
        "p99_gap_ms": median([p["rtp"]["p99_ms"] for p in products]),
        "max_gap_ms": median([p["rtp"]["max_ms"] for p in products]),
        "over_40ms": median([p["rtp"]["over_40ms"] for p in products]),
        "baseline_p99_gap_ms": median(
            [r["baseline"]["rtp"]["p99_ms"] for r in runs if r.get("baseline")]
        ),
        "baseline_p99_invite_ms": median(
            [r["baseline"]["invite_200"]["p99_ms"] for r in runs if r.get("baseline")]
        ),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    global RT_PRIORITY
    RT_PRIORITY = args.rt_priority
    started = datetime.now(UTC).isoformat()
    dsn = pg_dsn()
    url = db_url(dsn, DB_NAME)
    machine = asyncio.run(machine_description(dsn))
    runs = []
    for i in range(args.runs):
        print(f"[sip] run {i + 1} of {args.runs}", flush=True)
        runs.append(one_run(args, dsn, url))
    # The run whose RTP gap p99 is the median stands for the set in the detailed rows.
    middle = sorted(runs, key=lambda r: r["product"]["rtp"]["p99_ms"] or 0.0)[len(runs) // 2]
    m = medians(runs)
    out = {
        "started_at": started,
        "machine": machine,
        "config": {
            "database": "PostgreSQL (fresh database per run)",
            "scenario": str(SCENARIO.relative_to(REPO_ROOT)),
            "rtp_ports": RTP_PORTS,
            "sip_port": SIP_PORT,
            "scheduling": f"SCHED_RR priority {RT_PRIORITY} (chrt)" if RT_PRIORITY else None,
        },
        "targets": TARGETS,
        **middle,
        "runs": runs,
        "medians": m,
        "verdict_median": {
            "no_failures": all(
                r["verdict"]["no_failures"] and r["verdict"]["all_calls"] for r in runs
            ),
            "invite_p99": m["p99_invite_ms"] is not None
            and m["p99_invite_ms"] <= TARGETS["p99_invite_ms"],
            "gap_p99": m["p99_gap_ms"] is not None and m["p99_gap_ms"] <= TARGETS["p99_gap_ms"],
            "no_gap_over_40ms": m["over_40ms"] == 0,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"[sip] wrote {args.output}")
    return 0


async def _count_calls(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM call"))
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
