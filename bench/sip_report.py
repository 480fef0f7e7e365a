"""The phone-line section of docs/benchmarks.md, from bench/results/sip_calls.json."""

from __future__ import annotations

import re
from typing import Any

from common import fmt, markdown_table


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**PASS**" if ok else "**FAIL**")


def _ms(value: float | None) -> str:
    """sipp's response times are whole milliseconds: 0 means under one."""
    return "< 1" if value == 0 else fmt(value, 0)


def _gc(line: str | None) -> str:
    """The line's `sip_gc` log line: collections per generation and the longest of each."""
    m = re.search(
        r"collections=\((\d+), (\d+), (\d+)\) longest_ms=\(([\d.]+), ([\d.]+), ([\d.]+)\)",
        line or "",
    )
    if not m:
        return "not logged"
    n, ms = m.groups()[:3], [float(x) for x in m.groups()[3:]]
    return (
        f"{n[0]} young / {n[1]} middle / {n[2]} full, longest"
        f" {ms[0]:.1f} / {ms[1]:.1f} / {ms[2]:.1f} ms, each right after a tick"
    )


def _drops(capture: list[str]) -> str:
    m = re.search(r"received/dropped.*?: (\d+)/(\d+)", " ".join(capture))
    return f"{int(m.group(2)):,} of {int(m.group(1)):,}" if m else "unknown"


def _row(label: str, run: dict[str, Any]) -> list[object]:
    r, g, cpu, load = run["invite_200"], run["rtp"], run["cpu_percent"], run["loadavg_1m"]
    return [
        label,
        f"{run['calls']:,}",
        f"{run['concurrency']} ({run['peak_concurrent']})",
        f"{run['successful']:,}",
        run["failed"],
        f"{_ms(r['p50_ms'])} / {_ms(r['p99_ms'])} / {_ms(r['max_ms'])}",
        f"{fmt(g['p50_ms'], 2)} / {fmt(g['p99_ms'], 2)} / {fmt(g['max_ms'], 2)}",
        f"{g['over_40ms']} ({g['streams_with_gap_over_40ms']} streams)",
        f"{g['streams']:,} / {g['packets']:,}",
        f"{fmt(cpu['avg'], 0)} / {fmt(cpu['peak'], 0)}",
        f"{fmt(load['before'], 2)} → {fmt(load['after'], 2)}",
    ]


def sip_calls_section(r: dict[str, Any]) -> tuple[str, list[list[object]]]:
    """Targets: 400 calls at once, 3,000 calls, 0 failures, INVITE→200 and RTP timing."""
    p, b, t, v, c = r["product"], r.get("baseline"), r["targets"], r["verdict"], r["config"]
    runs = r.get("runs") or [r]
    rows: list[list[object]] = []
    for i, one in enumerate(runs, 1):
        if one.get("baseline"):
            rows.append(_row(f"{i}: baseline (same process)", one["baseline"]))
        rows.append(_row(f"{i}: product", one["product"]))
    m = r.get("medians") or {
        "failed": p["failed"],
        "p99_invite_ms": p["invite_200"]["p99_ms"],
        "p99_gap_ms": p["rtp"]["p99_ms"],
        "max_gap_ms": p["rtp"]["max_ms"],
        "over_40ms": p["rtp"]["over_40ms"],
        "baseline_p99_gap_ms": b["rtp"]["p99_ms"] if b else None,
        "baseline_p99_invite_ms": b["invite_200"]["p99_ms"] if b else None,
    }
    vm = r.get("verdict_median") or {
        "no_failures": v["no_failures"] and v["all_calls"],
        "invite_p99": v["invite_p99"],
        "gap_p99": v["gap_p99"],
        "no_gap_over_40ms": v["no_gap_over_40ms"],
    }
    n = len(runs)
    sched = c.get("scheduling") or "normal (SCHED_OTHER)"
    text = [
        "## Phone line: 400 calls at once",
        "",
        "What: one `hotline sip` process (the real CLI, default Vietnamese menu and prompts,"
        f" {c['database']}), sipp as the trunk placing {p['calls']:,} calls with"
        f" {p['concurrency']} up at once (`{c['scenario']}`: each caller stays"
        f" {p['hold_s']:g} s in the menu and then the queue, hearing the greeting, the queue"
        " announcement and hold audio, then hangs up). INVITE → 200 OK is sipp's response time"
        " for every call (`-trace_rtt`, 1 ms resolution). RTP: `dumpcap` captures every packet"
        " the line sends on loopback; per stream (SSRC), the gaps between consecutive packets'"
        " capture times (their send times on loopback); the ideal is 20 ms. Baseline in the"
        f" same run: the same process first carries {b['concurrency'] if b else '—'} calls at"
        f" once. Scheduling of the line and sipp: {sched}. CPU is the line process's, percent"
        " of one core (average over the middle of the run / peak second)."
        f" {n} run{'s' if n > 1 else ''}, each on a fresh database and a new line process;"
        " the figures below are the medians of the runs (every run must have no failures).",
        "",
        markdown_table(
            [
                "run",
                "calls",
                "at once (peak)",
                "ok",
                "failed",
                "INVITE→200 ms p50 / p99 / max",
                "RTP gap ms p50 / p99 / max",
                "gaps > 40 ms",
                "streams / packets",
                "CPU % avg / peak",
                "load 1 min",
            ],
            rows,
        ),
        "",
        f"- failures: **{fmt(m['failed'], 0)}** (median) of {p['calls']:,} a run,"
        f" {p['peak_concurrent']} calls at once at the peak of the median run —"
        f" {_verdict(vm['no_failures'] and v['concurrency_reached'])}",
        f"- INVITE → 200 p99: **{_ms(m['p99_invite_ms'])} ms** (median; target ≤"
        f" {t['p99_invite_ms']:g} ms) — {_verdict(vm['invite_p99'])}",
        f"- RTP gap p99: **{fmt(m['p99_gap_ms'], 2)} ms** (median; target ≤"
        f" {t['p99_gap_ms']:g} ms, ideal 20 ms: ×{fmt((m['p99_gap_ms'] or 0) / 20.0, 3)}) —"
        f" {_verdict(vm['gap_p99'])}",
        f"- gaps over 40 ms: **{fmt(m['over_40ms'], 0)}** (median; largest of the median run"
        f" {fmt(p['rtp']['max_ms'], 2)} ms; target none) — {_verdict(vm['no_gap_over_40ms'])}",
        f"- call records written (median run, baseline and product): {r['call_records']:,};"
        " errors logged by the line:"
        f" {len(r['line_errors_logged'])}; packets dropped by the capture: {_drops(p['capture'])}",
        f"- garbage collections in the line (whole process life): {_gc(r.get('line_gc'))}",
    ]
    base_gap = f"{fmt(m['baseline_p99_gap_ms'], 2)} ms" if b else "—"
    base_inv = f"{_ms(m['baseline_p99_invite_ms'])} ms" if b else "—"
    summary: list[list[object]] = [
        [
            f"phone line, {p['concurrency']} calls at once, {p['calls']:,} calls",
            "0 failed",
            f"{fmt(m['failed'], 0)} failed",
            f"{b['failed']} failed" if b else "—",
            "—",
            _verdict(vm["no_failures"] and v["concurrency_reached"]),
        ],
        [
            "phone line INVITE→200 p99",
            f"≤ {t['p99_invite_ms']:g} ms",
            f"{_ms(m['p99_invite_ms'])} ms",
            base_inv,
            "—",
            _verdict(vm["invite_p99"]),
        ],
        [
            "phone line RTP gap p99 / max",
            f"≤ {t['p99_gap_ms']:g} ms / none > {t['max_gap_ms']:g} ms",
            f"{fmt(m['p99_gap_ms'], 2)} / {fmt(m['max_gap_ms'], 2)} ms",
            base_gap,
            f"×{fmt((m['p99_gap_ms'] or 0) / 20.0, 3)} of 20 ms",
            _verdict(vm["gap_p99"] and vm["no_gap_over_40ms"]),
        ],
    ]
    return "\n".join(text), summary
