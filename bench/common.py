"""Shared helpers for the benchmarks: machine description, statistics, Markdown output."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def pg_dsn() -> str:
    return os.environ.get("BENCH_PG_DSN", DEFAULT_DSN)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_mib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _tool_version(cmd: Sequence[str]) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


async def pg_version(dsn: str) -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"unavailable: {exc}"
    try:
        return await conn.fetchval("SELECT version()")
    finally:
        await conn.close()


async def machine_description(dsn: str) -> dict[str, object]:
    """Everything a reader needs to judge whether two result files are comparable."""
    return {
        "cpu_model": _cpu_model(),
        # Affinity, not os.cpu_count(): containers often see more CPUs than they may use.
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_mib": _ram_mib(),
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": await pg_version(dsn),
        "sqlite": sqlite3.sqlite_version,
        # Other work on the box skews absolute numbers (ratios to the same-run baseline
        # much less), so record how busy it was when the benchmark started.
        "loadavg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "wrk": _tool_version(["wrk", "--version"]),
    }


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))
    return ordered[int(k)]


def summarise(samples: Sequence[float]) -> dict[str, float]:
    """Latency summary of timed samples in milliseconds."""
    return {
        "n": len(samples),
        "p50_ms": pct(samples, 50),
        "p95_ms": pct(samples, 95),
        "p99_ms": pct(samples, 99),
        "mean_ms": statistics.fmean(samples),
        "max_ms": max(samples),
    }


def median(values: Sequence[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """GitHub-flavoured table; first column left-aligned, numbers right-aligned."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
