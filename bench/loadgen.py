"""Load generator: wrk (preferred) driving bench/intake.lua, or an httpx fallback.

wrk is C with an event loop; on a 2-core box it leaves far more CPU to the server under
test than a Python generator would, so numbers from the two engines are NOT comparable.
Every result records which engine produced it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "intake.lua"
MARKER = "BENCH_JSON "


def engine_available(engine: str) -> bool:
    if engine == "wrk":
        return shutil.which("wrk") is not None
    try:
        import httpx  # noqa: F401
    except ImportError:
        return False
    return True


def pick_engine(requested: str = "auto") -> str:
    if requested != "auto":
        if not engine_available(requested):
            raise RuntimeError(f"load generator {requested!r} is not available")
        return requested
    return "wrk" if engine_available("wrk") else "httpx"


def _summarise(requests: int, non2xx: int, errors: int, seconds: float, lat_us: dict) -> dict:
    return {
        "requests": requests,
        "rps": requests / seconds if seconds else 0.0,
        "non2xx": non2xx,
        "socket_errors": errors,
        "duration_s": seconds,
        "latency_ms": {k: v / 1000.0 for k, v in lat_us.items()},
    }


def run_wrk(
    url: str,
    duration: float,
    concurrency: int,
    token: str | None,
    threads: int,
    tag: str,
    raw_path: Path | None = None,
) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration:g}s"]
    # A generous timeout so a slow product shows up as latency, not as dropped requests.
    cmd += ["--timeout", "10s", "--latency", "-s", str(LUA_SCRIPT)]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    cmd += [url, "--", tag]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if raw_path is not None:
        raw_path.write_text(" ".join(cmd) + "\n" + out.stdout + out.stderr)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(MARKER)), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout}")
    data = json.loads(line[len(MARKER) :])
    errs = data["errors"]
    socket_errors = errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
    result = _summarise(
        data["requests"],
        data["non2xx"],
        socket_errors,
        data["duration_us"] / 1e6,
        data["latency_us"],
    )
    result["engine"] = "wrk"
    result["non2xx_by_status"] = data.get("non2xx_by_status", {})
    return result


def make_body(tag: str, worker: int, n: int) -> bytes:
    """Python twin of request() in intake.lua: unique description and phone per request."""
    phone = f"09{worker % 10}{n % 10_000_000:07d}"
    return json.dumps(
        {
            "channel": "phone",
            "description": f"Nhà tôi có 4 người, mất việc do bão, cần hỗ trợ khó khăn "
            f"({tag}-w{worker}-#{n})",
            "category": "ho_tro_kho_khan",
            "contact": {"name": "Nguyễn Văn A", "phone": phone},
            "ward_code": "00004",
            "address": f"Số {n % 500 + 1} Kim Mã",
        },
        ensure_ascii=False,
    ).encode()


async def _httpx_load(url: str, duration: float, concurrency: int, token: str | None, tag: str):
    import httpx

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    latencies: list[float] = []
    counts = {"non2xx": 0, "errors": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10.0, headers=headers) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker(i: int) -> None:
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                t0 = time.perf_counter()
                try:
                    resp = await client.post(url, content=make_body(tag, i, n))
                except httpx.HTTPError:
                    counts["errors"] += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1e6)
                if not 200 <= resp.status_code < 300:
                    counts["non2xx"] += 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, counts, elapsed


def run_httpx(url: str, duration: float, concurrency: int, token: str | None, tag: str) -> dict:
    latencies, counts, elapsed = asyncio.run(_httpx_load(url, duration, concurrency, token, tag))
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100.0 * len(latencies)))]

    lat = {"p50": pct(50), "p90": pct(90), "p99": pct(99), "p999": pct(99.9)}
    lat["max"] = latencies[-1] if latencies else 0.0
    lat["mean"] = sum(latencies) / len(latencies) if latencies else 0.0
    result = _summarise(len(latencies), counts["non2xx"], counts["errors"], elapsed, lat)
    result["engine"] = "httpx"
    return result


def run_load(
    url: str,
    duration: float,
    concurrency: int = 32,
    token: str | None = None,
    *,
    engine: str = "auto",
    threads: int = 1,
    tag: str | None = None,
    raw_path: Path | None = None,
) -> dict:
    """Drive `url` for `duration` seconds; returns rps, non-2xx, latency percentiles in ms."""
    tag = tag or uuid.uuid4().hex[:8]
    if pick_engine(engine) == "wrk":
        return run_wrk(url, duration, concurrency, token, threads, tag, raw_path)
    return run_httpx(url, duration, concurrency, token, tag)


def main() -> None:
    parser = argparse.ArgumentParser(description="POST varied intake bodies at a URL.")
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--token", default=None, help="bearer token")
    parser.add_argument("--engine", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()
    result = run_load(
        args.url,
        args.duration,
        args.concurrency,
        args.token,
        engine=args.engine,
        threads=args.threads,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
