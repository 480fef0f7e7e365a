"""Intake benchmark: product `POST /api/v1/cases` vs a bare FastAPI + asyncpg baseline.

Each run starts the baseline, measures it, stops it, then does the same for the product,
so both see the same machine state (page cache, PostgreSQL autovacuum, thermal). Medians
over runs are compared against the targets: throughput ratio >= 0.60 and product
p99 <= 100 ms, with zero non-2xx responses (a fast 401 must not pass as throughput).

    python bench/intake.py --duration 10 --runs 3 --concurrency 32 \
        --product-cmd "<shell command>" --product-url http://127.0.0.1:8902/api/v1/cases \
        --token-cmd "<shell command printing a bearer token>"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import RESULTS_DIR, fmt, machine_description, markdown_table, median, pg_dsn
from loadgen import pick_engine, run_load
from serve import Server

BASELINE_CMD = (
    "uvicorn bench.baseline_app:app --host 127.0.0.1 --port 8901 --workers 2"
    " --no-access-log --loop uvloop --http httptools"
)
BASELINE_URL = "http://127.0.0.1:8901/api/v1/cases"
PRODUCT_URL = "http://127.0.0.1:8902/api/v1/cases"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per target")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=32, help="open connections")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (1 leaves CPU to server)")
    p.add_argument("--engine", choices=["auto", "wrk", "httpx"], default="auto")
    p.add_argument("--baseline-cmd", default=BASELINE_CMD)
    p.add_argument("--baseline-url", default=BASELINE_URL)
    p.add_argument(
        "--product",
        action="store_true",
        help="benchmark the real product: fresh database per run (bench/product.py setup),\n"
        "`hotline serve --workers 2` as deployed, token via /auth/token",
    )
    p.add_argument("--product-workers", type=int, default=2)
    p.add_argument("--keep-db", action="store_true", help="keep the product database afterwards")
    p.add_argument("--product-cmd", help="shell command starting the product; omit to skip it")
    p.add_argument("--product-url", default=PRODUCT_URL)
    p.add_argument("--product-setup-cmd", help="shell command run before each product start")
    p.add_argument("--token-cmd", help="shell command printing a bearer token (after start)")
    p.add_argument("--token", help="static bearer token (alternative to --token-cmd)")
    p.add_argument("--min-ratio", type=float, default=0.60)
    p.add_argument("--max-p99-ms", type=float, default=100.0)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "intake.json")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return p.parse_args(argv)


def shell(cmd: str, env: dict[str, str]) -> str:
    full_env = {**os.environ, **env}
    # Same PATH trick as serve.Server: tools from the harness's venv come first.
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, env=full_env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"command failed ({out.returncode}): {cmd}\n{out.stderr.strip()}")
    return out.stdout


async def truncate_baseline(dsn: str) -> None:
    """Every baseline run starts from an empty table so index growth doesn't drift results."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT to_regclass('bench_case')") is not None:
            await conn.execute("TRUNCATE bench_case RESTART IDENTITY")
    finally:
        await conn.close()


def measure(name: str, run: int, cmd: str, url: str, args: argparse.Namespace, token_cmd=None):
    stem = RESULTS_DIR / f"intake-{name}-{run}"
    with Server(cmd, url, log_path=stem.with_suffix(".server.raw")):
        token = args.token
        if token_cmd:
            # Run after start: the token command may log in through the running server.
            lines = shell(token_cmd, {"BENCH_URL": url}).strip().splitlines()
            token = lines[-1].strip() if lines else None
            if not token:
                raise RuntimeError(f"--token-cmd printed nothing: {token_cmd}")
        tag = f"{name[0]}{run}-{uuid.uuid4().hex[:6]}"
        common = {"engine": args.engine, "threads": args.threads}
        if args.warmup > 0:
            run_load(url, args.warmup, args.concurrency, token, tag=tag + "w", **common)
        result = run_load(
            url,
            args.duration,
            args.concurrency,
            token,
            tag=tag,
            raw_path=stem.with_suffix(".wrk.raw"),
            **common,
        )
    result.update(target=name, run=run)
    lat = result["latency_ms"]
    print(
        f"  {name:8} run {run}: {result['rps']:9,.1f} req/s  p50 {lat['p50']:6.1f} ms"
        f"  p99 {lat['p99']:6.1f} ms  non-2xx {result['non2xx']}"
        + (f" {result.get('non2xx_by_status')}" if result["non2xx"] else ""),
        flush=True,
    )
    return result


def summarise(results: list[dict]) -> dict | None:
    if not results:
        return None
    return {
        "runs": len(results),
        "rps_median": median([r["rps"] for r in results]),
        "p50_ms_median": median([r["latency_ms"]["p50"] for r in results]),
        "p99_ms_median": median([r["latency_ms"]["p99"] for r in results]),
        "non2xx_total": sum(r["non2xx"] for r in results),
        "socket_errors_total": sum(r["socket_errors"] for r in results),
    }


def verdict(base: dict, prod: dict | None, args: argparse.Namespace) -> dict:
    if prod is None:
        return {"evaluated": False, "reason": "no --product-cmd given; baseline only"}
    ratio = prod["rps_median"] / base["rps_median"] if base["rps_median"] else None
    checks = {
        "throughput_ratio": ratio is not None and ratio >= args.min_ratio,
        "product_p99": prod["p99_ms_median"] <= args.max_p99_ms,
        "no_errors": prod["non2xx_total"] == 0 and prod["socket_errors_total"] == 0,
    }
    return {"evaluated": True, "ratio": ratio, "checks": checks, "pass": all(checks.values())}


def render(runs: list[dict], base: dict, prod: dict | None, result: dict) -> str:
    headers = ["target", "run", "req/s", "non-2xx", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms"]
    headers.append("max ms")
    rows = []
    for r in runs:
        lat = r["latency_ms"]
        rows.append(
            [r["target"], r["run"], fmt(r["rps"]), r["non2xx"]]
            + [fmt(lat[k]) for k in ("p50", "p90", "p99", "p999", "max")]
        )
    for name, s in (("baseline", base), ("product", prod)):
        if s:
            rps, p99 = f"**{fmt(s['rps_median'])}**", f"**{fmt(s['p99_ms_median'])}**"
            rows.append([f"**{name} median**", "", rps, s["non2xx_total"]])
            rows[-1] += [fmt(s["p50_ms_median"]), "", p99, "", ""]
    text = markdown_table(headers, rows)
    v = result["verdict"]
    if not v["evaluated"]:
        return text + f"\n\nProduct: skipped ({v['reason']})."
    t = result["targets"]
    mark = {True: "PASS", False: "FAIL"}
    return text + (
        f"\n\n- throughput ratio product/baseline: {fmt(v['ratio'], 3)}"
        f" (target ≥ {t['min_ratio']}) — {mark[v['checks']['throughput_ratio']]}"
        f"\n- product p99: {fmt(prod['p99_ms_median'])} ms (target ≤ {t['max_p99_ms']} ms)"
        f" — {mark[v['checks']['product_p99']]}"
        f"\n- product non-2xx/socket errors: {prod['non2xx_total']}/"
        f"{prod['socket_errors_total']} — {mark[v['checks']['no_errors']]}"
        f"\n- **overall: {mark[v['pass']]}**"
    )


def wire_product(args: argparse.Namespace) -> None:
    """Fill in the product's commands unless given explicitly."""
    import product

    args.product_cmd = args.product_cmd or product.product_cmd(args.product_workers)
    args.product_setup_cmd = args.product_setup_cmd or product.setup_cmd()
    if not args.token:
        args.token_cmd = args.token_cmd or product.token_cmd()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.product:
        wire_product(args)
    args.engine = pick_engine(args.engine)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    dsn = pg_dsn()
    machine = asyncio.run(machine_description(dsn))
    print(f"load generator: {args.engine}; {machine['cpu_model']}, {machine['cores']} cores")
    if not args.product_cmd:
        print("no --product-cmd given: measuring the baseline only", flush=True)
    if args.engine != "wrk":
        print("WARNING: httpx fallback in use; numbers are not comparable with wrk runs")

    runs: list[dict] = []
    started = datetime.now(UTC)
    for i in range(1, args.runs + 1):
        print(f"run {i}/{args.runs}", flush=True)
        asyncio.run(truncate_baseline(dsn))
        runs.append(measure("baseline", i, args.baseline_cmd, args.baseline_url, args))
        if args.product_cmd:
            if args.product_setup_cmd:
                shell(args.product_setup_cmd, {"BENCH_URL": args.product_url})
            runs.append(
                measure("product", i, args.product_cmd, args.product_url, args, args.token_cmd)
            )
        time.sleep(1)  # let PostgreSQL flush/checkpoint settle between runs
    if args.product and not args.keep_db:
        import product

        shell(product.drop_cmd(), {})

    base = summarise([r for r in runs if r["target"] == "baseline"])
    prod = summarise([r for r in runs if r["target"] == "product"])
    assert base is not None
    result = {
        "benchmark": "intake",
        "started_at": started.isoformat(),
        "machine": machine,
        "config": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "runs": args.runs,
            "concurrency": args.concurrency,
            "wrk_threads": args.threads,
            "engine": args.engine,
            "baseline_cmd": args.baseline_cmd,
            "baseline_url": args.baseline_url,
            "product_cmd": args.product_cmd,
            "product_url": args.product_url if args.product_cmd else None,
        },
        "targets": {"min_ratio": args.min_ratio, "max_p99_ms": args.max_p99_ms},
        "runs": runs,
        "summary": {"baseline": base, "product": prod},
    }
    result["verdict"] = verdict(base, prod, args)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print()
    print(render(runs, base, prod, result))
    print(f"\nresults written to {args.output}")
    return 1 if args.strict and result["verdict"].get("pass") is False else 0


if __name__ == "__main__":
    sys.exit(main())
