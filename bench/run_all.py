"""Run every benchmark and rewrite docs/benchmarks.md from their results (`make bench`).

    python bench/run_all.py                      # everything, target sizes (data cached)
    python bench/run_all.py --only search        # one benchmark (comma-separated list)
    python bench/run_all.py --quick              # small datasets and short runs, minutes
    python bench/run_all.py --fresh              # regenerate the cached datasets

Each benchmark runs as its own process (as a user would run it) and writes
bench/results/<name>.json; this script then renders all present result files, so a
partial run (--only) refreshes its section and keeps the others from earlier runs.
Quick runs write to bench/results/quick/ and never touch docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import REPO_ROOT, RESULTS_DIR, fmt, markdown_table
from sip_report import sip_calls_section
from webreport import live_section, pages_section

BENCH = Path(__file__).resolve().parent
DOC = REPO_ROOT / "docs" / "benchmarks.md"
NAMES = (
    "intake",
    "report",
    "search",
    "triage",
    "triage_speed",
    "kb_search",
    "duplicates",
    "acd",
    "staffing",
    "care",
    "sip_calls",
    "phone",
    "page_weight",
    "pages",
    "live",
    "channels",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default=",".join(NAMES), help="comma-separated: " + ", ".join(NAMES))
    p.add_argument("--quick", action="store_true", help="small sizes, short runs; no doc update")
    p.add_argument("--fresh", action="store_true", help="rebuild cached datasets")
    p.add_argument("--render-only", action="store_true", help="rewrite the doc from results")
    return p.parse_args(argv)


def commands(quick: bool, fresh: bool, out: Path) -> dict[str, list[str]]:
    py = sys.executable
    f = ["--fresh"] if fresh else []
    if quick:
        intake = ["--duration", "3", "--warmup", "1", "--runs", "1"]
        report = ["--pg-cases", "100000", "--pg-calls", "20000", "--sqlite-cases", "100000"]
        report += ["--sqlite-calls", "20000", "--runs", "5", "--baseline-runs", "2"]
        search = ["--cases", "100000", "--calls", "20000", "--rounds", "2"]
        search += ["--baseline-rounds", "1"]
        kb_search = ["--queries", "100"]
        duplicates = ["--cases", "100000", "--sqlite-cases", "100000", "--baseline-queries", "20"]
        triage_speed = ["--min-texts", "2000", "--runs", "1", "--baseline-runs", "1"]
        sip_calls = ["--calls", "300", "--concurrency", "100", "--hold", "10"]
        sip_calls += ["--baseline-calls", "60", "--baseline-concurrency", "20", "--runs", "1"]
        pages = ["--cases", "100000", "--calls", "20000", "--rounds", "5"]
        pages += ["--baseline-rounds", "2"]
        live = ["--dashboards", "50", "--cases", "30", "--db-cases", "100000"]
        live += ["--db-calls", "20000"]
    else:
        # Target sizes; about 15 minutes in all once the datasets are cached.
        intake = ["--duration", "10", "--warmup", "2", "--runs", "3", "--concurrency", "32"]
        report, search, kb_search, duplicates, triage_speed, sip_calls = [], [], [], [], [], []
        pages, live = [], []
    return {
        "intake": [py, str(BENCH / "intake.py"), "--product", *intake],
        "report": [py, str(BENCH / "report.py"), *report, *f],
        "search": [py, str(BENCH / "search.py"), *search, *f],
        "triage": [py, str(BENCH / "triage_quality.py")],
        "triage_speed": [py, str(BENCH / "triage_speed.py"), *triage_speed],
        "kb_search": [py, str(BENCH / "kb_search.py"), *kb_search, *f],
        "duplicates": [py, str(BENCH / "duplicates.py"), *duplicates, *f],
        "acd": [py, str(BENCH / "acd.py"), *(["--rounds", "3"] if quick else [])],
        "staffing": [
            py,
            str(BENCH / "staffing.py"),
            *(["--calls", "100000", "--runs", "3"] if quick else []),
            *f,
        ],
        "care": [
            py,
            str(BENCH / "care.py"),
            *(["--checkins", "5000", "--runs", "2", "--requests", "30"] if quick else []),
            *f,
        ],
        "sip_calls": [py, str(BENCH / "sip_calls.py"), *sip_calls],
        "page_weight": [py, str(BENCH / "page_weight.py")],
        "pages": [py, str(BENCH / "pages.py"), *pages, *f],
        "live": [py, str(BENCH / "live.py"), *live, *f],
        "channels": [py, str(BENCH / "channels.py"), *(["--quick"] if quick else [])],
        "phone": [
            py,
            str(BENCH / "phone.py"),
            *(["--rounds", "2", "--seconds", "4"] if quick else []),
        ],
    }


def run(name: str, cmd: list[str]) -> float:
    env = dict(os.environ)
    # The worktree's code first, whatever the venv has installed (and for child servers).
    env["PYTHONPATH"] = str(REPO_ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
    t0 = time.monotonic()
    subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True)
    return time.monotonic() - t0


def load(out: Path) -> dict[str, Any]:
    results = {}
    for name in NAMES:
        path = out / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text())
    return results


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**PASS**" if ok else "**FAIL**")


def machine_section(m: dict[str, Any]) -> str:
    ram = f"{m['ram_mib'] / 1024:.1f} GiB" if m.get("ram_mib") else "?"
    rows = [
        ["CPU", m.get("cpu_model")],
        ["cores available", m.get("cores")],
        ["RAM", ram],
        ["OS", m.get("os")],
        ["Python", m.get("python")],
        ["PostgreSQL", (m.get("postgresql") or "?").split(" on ")[0]],
        ["SQLite", m.get("sqlite", "?")],
        ["wrk", m.get("wrk") or "not installed"],
        ["load average at start", fmt(m.get("loadavg_1m"), 2)],
    ]
    return "\n".join(["| | |", "|:---|:---|"] + [f"| {k} | {v} |" for k, v in rows])


def intake_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    s, v, t = r["summary"], r["verdict"], r["targets"]
    base, prod = s["baseline"], s.get("product")
    c = r["config"]
    text = [
        "## Intake: `POST /api/v1/cases`",
        "",
        f"What: requests/s and latency of the real product (`hotline serve`, 2 workers, PostgreSQL,"
        f" fresh database per run, operator bearer token) against a bare FastAPI + asyncpg"
        f" baseline doing one INSERT (`bench/baseline_app.py`), {c['concurrency']} concurrent"
        f" connections, wrk ({c['engine']}), {c['duration_s']:g} s per run after"
        f" {c['warmup_s']:g} s warm-up, {c['runs']} runs alternating baseline/product."
        " Medians over runs.",
        "",
    ]
    rows = [
        [
            "baseline",
            fmt(base["rps_median"]),
            fmt(base["p50_ms_median"]),
            fmt(base["p99_ms_median"]),
            base["non2xx_total"],
        ]
    ]
    if prod:
        rows.append(
            [
                "product",
                fmt(prod["rps_median"]),
                fmt(prod["p50_ms_median"]),
                fmt(prod["p99_ms_median"]),
                prod["non2xx_total"],
            ]
        )
    text.append(
        markdown_table(
            ["target", "req/s (median)", "p50 ms (median)", "p99 ms (median)", "non-2xx"], rows
        )
    )
    text.append("")
    if not v["evaluated"]:
        text.append("Product not measured.")
        return "\n".join(text), []
    ck = v["checks"]
    text += [
        f"- throughput product/baseline: **{fmt(v['ratio'], 3)}** (target ≥"
        f" {t['min_ratio']}) — {verdict(ck['throughput_ratio'])}",
        f"- product p99: **{fmt(prod['p99_ms_median'])} ms** (target ≤"
        f" {t['max_p99_ms']:g} ms) — {verdict(ck['product_p99'])}",
        f"- errors (non-2xx/socket): {prod['non2xx_total']}/{prod['socket_errors_total']}"
        f" — {verdict(ck['no_errors'])}",
    ]
    summary_rows = [
        [
            "intake throughput",
            "≥ 60 % of baseline",
            f"{fmt(prod['rps_median'])} req/s",
            f"{fmt(base['rps_median'])} req/s",
            f"{fmt(v['ratio'] * 100 if v['ratio'] else None)} %",
            verdict(ck["throughput_ratio"]),
        ],
        [
            "intake p99 latency",
            "≤ 100 ms",
            f"{fmt(prod['p99_ms_median'])} ms",
            f"{fmt(base['p99_ms_median'])} ms",
            "—",
            verdict(ck["product_p99"]),
        ],
    ]
    return "\n".join(text), summary_rows


def report_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    text = [
        "## Summary report over 30 days",
        "",
        "What: wall time of `hotline.reports.service.summary(session, date_from, date_to)`"
        " (a fresh session per call, as the API does) for the last 30 local days of a"
        " two-year synthetic dataset; it reads the incremental counters. Baseline in the"
        " same run on the same database: the same figures by GROUP BY over the raw `case`,"
        " `call` and `case_assignment` rows of the window (checked equal to the product's"
        " before timing). Product and baseline runs are interleaved.",
        "",
    ]
    rows, summary_rows = [], []
    for e in r["engines"]:
        p, b = e["product"], e["baseline"]
        rows.append(
            [
                e["engine"],
                f"{e['dataset']['cases']:,} / {e['dataset']['calls']:,}",
                f"{e['window_requests']:,} / {e['window_calls']:,}",
                f"{fmt(p['median_ms'])} ({p['n']} runs)",
                fmt(p["p95_ms"]),
                f"{fmt(b['median_ms'])} ({b['n']} runs)",
                f"×{fmt(e['speedup_vs_baseline'])}",
                "yes" if e["baseline_matches_product"] else "**NO**",
                f"p95 ≤ {e['target_ms']:g} ms",
                verdict(e["passed"]),
            ]
        )
        summary_rows.append(
            [
                f"report 30 d, {e['engine']} {e['dataset']['cases'] / 1e6:g}M cases",
                f"≤ {e['target_ms']:g} ms",
                f"{fmt(p['median_ms'])} ms (p95 {fmt(p['p95_ms'])})",
                f"{fmt(b['median_ms'])} ms",
                f"×{fmt(e['speedup_vs_baseline'])} faster",
                verdict(e["passed"]),
            ]
        )
    text.append(
        markdown_table(
            [
                "engine",
                "cases / calls",
                "window requests / calls",
                "product median ms",
                "product p95 ms",
                "baseline median ms",
                "baseline ÷ product",
                "same figures",
                "target",
                "result",
            ],
            rows,
        )
    )
    return "\n".join(text), summary_rows


def search_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    p, b, c = r["product"], r["baseline"], r["config"]
    text = [
        f"## Case search (`q`) over {c['cases']:,} cases",
        "",
        f"What: `hotline.cases.queries.list_cases(q=...)` as an operator, first page of"
        f" {c['page_size']}, PostgreSQL full-text prefix search on the folded text"
        f" ({c['cases']:,} cases in `{c['database']}`). {c['queries']} realistic queries"
        f" (common/rare, folded and with diacritics, phrases, a case code, no-match) ×"
        f" {c['rounds']} shuffled rounds after one warm-up round. Baseline in the same run:"
        f" each query word as `description ILIKE '%word%'`, newest first, same page size"
        f" ({c['baseline_rounds']} rounds).",
        "",
        markdown_table(
            ["implementation", "queries timed", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [
                ["product", p["n"]] + [fmt(p[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")],
                ["baseline (ILIKE)", b["n"]]
                + [fmt(b[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")],
            ],
        ),
        "",
        f"- product p95 **{fmt(p['p95_ms'])} ms** (target ≤ {r['target_p95_ms']:g} ms) —"
        f" {verdict(r['passed'])}; baseline p50 ÷ product p50:"
        f" ×{fmt(r['speedup_p50_vs_baseline'])}",
        "",
        "<details><summary>Per query (medians)</summary>",
        "",
        markdown_table(
            ["query", "kind", "hits (page)", "product ms", "baseline ms"],
            [
                [
                    f"`{q['q']}`",
                    q["kind"],
                    q["hits"],
                    fmt(q["product_median_ms"]),
                    fmt(q["baseline_median_ms"]),
                ]
                for q in r["queries"]
            ],
        ),
        "",
        "</details>",
    ]
    summary_rows = [
        [
            f"search {c['cases'] / 1e6:g}M cases",
            f"p95 ≤ {r['target_p95_ms']:g} ms",
            f"p50 {fmt(p['p50_ms'])} / p95 {fmt(p['p95_ms'])} / p99 {fmt(p['p99_ms'])} ms",
            f"p50 {fmt(b['p50_ms'])} / p95 {fmt(b['p95_ms'])} ms",
            f"×{fmt(r['speedup_p50_vs_baseline'])} (p50)",
            verdict(r["passed"]),
        ]
    ]
    return "\n".join(text), summary_rows


NOTES = """## Notes

- Datasets are synthetic but shaped by the demo generator: every generated case copies one
  of 300 cases sampled from `hotline.demo.profiles.build_profile` (Hà Nội and Bình Dương
  2021 profiles: text, category, channel, ward, address, contact name), spread evenly over
  two years; calls copy 200 sampled demo calls; one case in ten is forwarded to a unit.
  Counters are filled by SQL aggregation into the same buckets as
  `hotline.reports.rebuild.rebuild_counters` (local day/hour, Asia/Ho_Chi_Minh).
  See `bench/datagen.py`. Because of the 300 templates, even "rare" words match about
  1/300 of the rows (≈3,300 of 1M); only case codes and unknown words are truly rare.
- The 10M-case report database is built without the full-text GIN index (not used by the
  report; building it takes tens of minutes on this box). The 1M search database has
  every product index.
- The page and live-dashboard benchmarks run on `hotline_bench_site_1m`, a copy of the 1M
  search database made into a working site (`bench/sitedata.py`): the history taken by 40
  operators and forwarded to the units the product would choose, then the last four weeks
  laid afresh as of each run (`bench/sitelayer.py`), with their open, forwarded and overdue
  work, today's cases and calls and the operators' states.
- The machine is shared: other jobs may run during a benchmark (load average at start is
  recorded above). Ratios against a baseline measured in the same run are the more stable
  figure; absolute numbers can move between runs.
- Reproduce: `make bench` (or `python bench/run_all.py`); one benchmark:
  `python bench/run_all.py --only report`; a quick smoke run on small data:
  `python bench/run_all.py --quick`. Raw results: `bench/results/*.json`.
"""


def triage_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """Macro-F1 and urgent recall on a split never trained on."""
    rows, summary = [], []
    for key, label in (
        ("held_out", "held-out split"),
        ("fresh_probe", "fresh probe"),
        ("welfare", "welfare checks"),
    ):
        if key not in r:
            continue
        m = r[key]
        u = m["urgent"]
        alarms = (
            f"{u['false_alarm_rate']:.3f} ({u['false_alarms']} of {m['n'] - u['support']})"
            if "false_alarms" in u
            else "—"
        )
        rows.append(
            [
                label,
                m["n"],
                f"{m['macro_f1']:.3f}",
                f"{m['accuracy']:.3f}",
                f"{u['recall']:.3f} ({u['support']} urgent)",
                f"{u['precision']:.3f}",
                alarms,
                f"{u['recall_model_only']:.3f}",
                f"{u['recall_rules_only']:.3f}",
            ]
        )
    h = r["held_out"]
    summary.append(
        [
            "triage quality, held-out",
            "report (recall first)",
            f"macro-F1 {h['macro_f1']:.3f}, urgent recall {h['urgent']['recall']:.3f}",
            "—",
            "—",
            "reported",
        ]
    )
    if "welfare" in r:
        w = r["welfare"]["urgent"]
        summary.append(
            [
                "triage quality, welfare checks",
                "report (recall first)",
                f"urgent recall {w['recall']:.3f}, false alarms {w['false_alarm_rate']:.3f}",
                "—",
                "—",
                "reported",
            ]
        )
    c = r["corpus"]
    text = "\n".join(
        [
            "## Triage quality",
            "",
            f"What: `bench/triage_quality.py` trains on {c['train']:,} of the {c['total']:,}"
            f" corpus messages and scores the fixed held-out split ({c['held_out']:,}), the"
            " fresh probe (messages written after a first model was frozen) and the"
            " welfare-check set (someone unreachable, alone or getting worse, and ordinary"
            " messages with the same words; never trained on). Urgent = rule lexicon or"
            " model; false alarms = messages not urgent that were flagged. Details and"
            " caveats: docs/triage.md.",
            "",
            markdown_table(
                [
                    "set",
                    "messages",
                    "macro-F1",
                    "accuracy",
                    "urgent recall",
                    "urgent precision",
                    "false alarms",
                    "recall, model alone",
                    "recall, rules alone",
                ],
                rows,
            ),
        ]
    )
    return text, summary


def triage_speed_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """Target: classification at >= 2,000 texts/s on one core."""
    c, p, b, cli = r["config"], r["product"], r["baseline"], r["cli"]
    target = r["target_texts_per_s"]
    speedup = r["speedup_vs_baseline"]
    text = "\n".join(
        [
            "## Triage classification speed",
            "",
            f"What: `bench/triage_speed.py` pinned to one core (CPU {c['cpu']}, BLAS/OpenMP"
            " threads 1) calls `hotline.triage.service.suggest` (what `POST /api/v1/triage`"
            " and `hotline triage classify` run: rules, model, reasons) one text at a time with"
            " a model loaded from its stored blob, over the corpus and fresh probe"
            f" ({c['texts']:,} texts) repeated to {c['classifications_per_run']:,}"
            f" classifications per run, {c['runs']} runs. Baseline in the same run: the same"
            " `suggest` with prediction through scikit-learn (`FeatureUnion.transform`,"
            " `CalibratedClassifierCV.predict_proba`, as before the compiled path),"
            f" {c['baseline_classifications_per_run']:,} texts per run, {c['baseline_runs']}"
            " runs. Suggestions differing between the two:"
            f" {r['suggestions_differing_from_baseline']}. Load average at start"
            f" {fmt(r['machine'].get('loadavg_1m'), 2)}, at end {fmt(r.get('loadavg_1m_end'), 2)}.",
            "",
            markdown_table(
                ["implementation", "texts/s (median)", "runs"],
                [
                    [
                        "product (compiled path)",
                        fmt(p["texts_per_s_median"], 0),
                        ", ".join(fmt(x, 0) for x in p["runs"]),
                    ],
                    [
                        "baseline (scikit-learn per call)",
                        fmt(b["texts_per_s_median"], 0),
                        ", ".join(fmt(x, 0) for x in b["runs"]),
                    ],
                ],
            ),
            "",
            f"- product **{fmt(p['texts_per_s_median'], 0)} texts/s** (target ≥ {target:,.0f})"
            f" — {verdict(r['passed'])}; product ÷ baseline: ×{fmt(speedup)}",
            f"- `hotline triage classify` (a subprocess on the same core, {cli['lines']:,}"
            f" lines on stdin): {fmt(cli['wall_s_median'])} s wall, of which"
            f" {fmt(cli['startup_s_median'])} s start-up (imports, training the corpus model"
            f" on a fresh install) → {fmt(cli['lines_per_s_after_startup'], 0)} lines/s after"
            " start-up",
        ]
    )
    summary = [
        [
            "triage classification, 1 core",
            f"≥ {target:,.0f} texts/s",
            f"{fmt(p['texts_per_s_median'], 0)} texts/s",
            f"{fmt(b['texts_per_s_median'], 0)} texts/s",
            f"×{fmt(speedup)}",
            verdict(r["passed"]),
        ]
    ]
    return text, summary


def kb_search_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """Target: knowledge-base search p95 <= 50 ms over 10,000 articles."""
    c, target = r["config"], r["target_p95_ms"]
    rows, summary = [], []
    for e in r["engines"]:
        for label, key in (
            ("`search_articles` (product)", "product"),
            ("`suggest_articles` (any word, scored)", "suggest"),
            ("baseline: LIKE per word", "baseline"),
        ):
            s = e[key]
            rows.append(
                [e["engine"], label, s["n"]]
                + [fmt(s[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
            )
        p, b = e["product"], e["baseline"]
        summary.append(
            [
                f"knowledge search {c['articles'] / 1000:g}k articles, {e['engine']}",
                f"p95 ≤ {target:g} ms",
                f"p50 {fmt(p['p50_ms'])} / p95 {fmt(p['p95_ms'])} / p99 {fmt(p['p99_ms'])} ms",
                f"p50 {fmt(b['p50_ms'])} / p95 {fmt(b['p95_ms'])} ms",
                f"×{fmt(e['speedup_p50_vs_baseline'])} (p50)",
                verdict(e["passed"]),
            ]
        )
    samples = ", ".join(f"`{q}`" for q in r["engines"][0]["sample_queries"][:6])
    text = "\n".join(
        [
            f"## Knowledge-base search over {c['articles']:,} articles",
            "",
            "What: `hotline.knowledge.queries.search_articles` (what"
            " `GET /api/v1/knowledge/articles?q=` runs: published and valid today, every word in"
            " any order, last word as a prefix, ranked; FTS5 on SQLite, stored tsvector + GIN on"
            f" PostgreSQL), first page of {c['page_size']}, a fresh session per query, over"
            f" {c['articles']:,} generated articles (`bench/kb_search.py`). {c['queries']}"
            " operator-style queries per engine: 2-5 words of an article's question without"
            " diacritics, shuffled, a third cut short while typing (e.g."
            f" {samples}). `suggest_articles` timed on the same queries. Baseline in the same"
            " run: each word as `LIKE '%word%'` over the same folded text, same filters, newest"
            " first.",
            "",
            markdown_table(
                ["engine", "implementation", "queries", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                rows,
            ),
        ]
    )
    return text, summary


def acd_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """What the operator queue costs the phone line's event loop."""
    rows = [
        ["relay one bridged RTP packet (same law)", fmt(r["relay_us"], 2)],
        ["relay with A-law/μ-law translation", fmt(r["relay_translated_us"], 2)],
        ["baseline: the clock sending one prompt frame", fmt(r["clock_frame_us"], 2)],
        ["check one REGISTER digest", fmt(r["digest_check_us"], 2)],
        ["choose the longest-idle of 200 free operators", fmt(r["choose_of_200_us"], 2)],
    ]
    share200 = r["relay_cpu_share_200_calls"] * 100
    share400 = r["relay_cpu_share_400_calls"] * 100
    text = "\n".join(
        [
            "## Operator queue (ACD) on the phone line's loop",
            "",
            "What: `bench/acd.py`, per-event costs on real loopback UDP sockets, medians of"
            f" {r['config']['rounds']} rounds. Relaying is done as packets arrive, outside the"
            " 20 ms clock; the baseline is the clock's own per-frame send in the same run.",
            "",
            markdown_table(["operation", "µs (median)"], rows),
            "",
            f"- projected relay CPU (2 directions × 50 packets/s per call): {fmt(share200)} %"
            f" of one core at 200 bridged calls, {fmt(share400)} % at 400.",
        ]
    )
    summary = [
        [
            "ACD relay per packet",
            "report (no target)",
            f"{fmt(r['relay_us'], 2)} µs",
            f"{fmt(r['clock_frame_us'], 2)} µs (clock frame)",
            f"×{fmt(r['relay_us'] / r['clock_frame_us'], 2)}",
            "reported",
        ]
    ]
    return text, summary


def phone_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """Configuration reloads and call recording against the 20 ms media clock."""
    rows = [
        ["the clock sending one prompt frame", f"{fmt(r['clock_frame_us'], 2)} µs"],
        ["the same frame with the call recorded", f"{fmt(r['clock_frame_recorded_us'], 2)} µs"],
        [
            "writing a recording (thread, at call end), per minute of call",
            f"{fmt(r['wav_write_ms_per_call_minute'])} ms",
        ],
        [
            "configuration snapshot, prompts synthesised (thread)",
            f"{fmt(r['snapshot_cold_ms'])} ms",
        ],
        ["configuration snapshot, prompts cached (thread)", f"{fmt(r['snapshot_warm_ms'])} ms"],
    ]
    idle, busy = r["clock_idle"], r["clock_reloading"]
    gap_rows = [
        [
            name,
            g["ticks"],
            g["reloads"],
            fmt(g["gap_p50_ms"], 2),
            fmt(g["gap_p99_ms"], 2),
            fmt(g["gap_max_ms"], 2),
            g["late_ticks"],
        ]
        for name, g in (("idle", idle), ("reloading (cold synthesis in a thread)", busy))
    ]
    c = r["config"]
    text = "\n".join(
        [
            "## Phone configuration reloads and call recording",
            "",
            "What: `bench/phone.py`. Per-frame costs are medians of"
            f" {c['rounds']} rounds on loopback UDP. Tick gaps: the shared media clock serving"
            f" {c['streams']} playing streams for {c['seconds']:g} s, once idle and once while"
            " configuration snapshots (every built-in prompt synthesised afresh by espeak-ng"
            " and sox) are rebuilt back to back in a thread, as a reload does.",
            "",
            markdown_table(["operation", "cost"], rows),
            "",
            markdown_table(
                [
                    "media clock",
                    "ticks",
                    "reloads",
                    "gap p50 ms",
                    "gap p99 ms",
                    "gap max ms",
                    "late ticks",
                ],
                gap_rows,
            ),
        ]
    )
    summary = [
        [
            "clock tick gap while reloading",
            "report (no target)",
            f"{fmt(busy['gap_max_ms'], 2)} ms max",
            f"{fmt(idle['gap_max_ms'], 2)} ms max (idle)",
            "—",
            "reported",
        ]
    ]
    return text, summary


def _measured(result: dict[str, Any]) -> str:
    return str(result["started_at"])[:16].replace("T", " ")


def page_weight_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """Target: the console's first load <= 150 KB of JavaScript and CSS, compressed."""
    rows = [
        [
            p["page"],
            f"`{p['path']}`",
            ", ".join(f"`{a['href']}`" for a in p["assets"]),
            f"{p['assets_kb']:.1f}",
            f"{p['assets_gzip_kb']:.1f}",
            f"{p['html_gzip_bytes'] / 1024:.1f}",
        ]
        for p in r["pages"]
    ]
    console = next(p for p in r["pages"] if p["path"] == "/")
    text = "\n".join(
        [
            "## First-load weight of the pages",
            "",
            "What: each main page opened as its user on a fresh site (`bench/page_weight.py`),"
            " its `<script src>` and stylesheet files fetched and counted raw and gzip-compressed"
            " (level 6, what a reverse proxy's gzip sends). No baseline runs here: the issue"
            " compares with Zammad's and Chatwoot's single-page apps, which are not installed on"
            " this machine.",
            "",
            markdown_table(
                ["page", "path", "files", "JS+CSS KB", "JS+CSS KB gzip", "HTML KB gzip"], rows
            ),
        ]
    )
    summary = [
        [
            "console first load, JS + CSS compressed",
            f"≤ {r['target_kb']:g} KB",
            f"{console['assets_gzip_kb']:.1f} KB",
            "—",
            "—",
            verdict(r["passed"]),
        ]
    ]
    return text, summary


def staffing_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    c, f = r["config"], r["forecast_ms"]
    text = "\n".join(
        [
            f"## Staffing forecast over {c['calls']:,} calls ({c['days']} days)",
            "",
            "What: `bench/staffing.py`, `hotline.staffing.planning.staffing_forecast` for a"
            f" week ({c['slots']} half-hours) on PostgreSQL, {c['runs']} runs after warm-up:"
            " the history from the quarter-hour counters, the roster and Erlang A for every"
            " half-hour (one"
            " call in eight abandoned in the queue, so callers' patience is known); and"
            " Erlang C (`agents_needed`) and Erlang A (`agents_needed_a`, 90 s patience) alone"
            " for one half-hour.",
            "",
            markdown_table(
                ["forecast of a week", "p50 ms", "p95 ms", "max ms"],
                [["product", fmt(f["p50"]), fmt(f["p95"]), fmt(f["max"])]],
            ),
            "",
            markdown_table(
                ["model", "calls in the half-hour", "AHT s", "agents", "ms"],
                [
                    [e.get("model", "erlang_c"), e["calls"], e["aht"], e["agents"], fmt(e["ms"], 4)]
                    for e in r["erlang"]
                ],
            ),
        ]
    )
    summary = [
        [
            "staffing forecast, a week",
            f"p95 ≤ {r['target_ms']:g} ms; Erlang C/A ≤ {r['erlang_target_ms']:g} ms",
            f"p95 {fmt(f['p95'])} ms; Erlang C/A ≤ {fmt(max(e['ms'] for e in r['erlang']), 4)} ms",
            "—",
            "—",
            verdict(r["passed"]),
        ]
    ]
    return text, summary


def care_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    c, risk, w = r["config"], r["risk"], r["worklist"]
    mix = ", ".join(f"{k} {v}" for k, v in sorted(risk["tier_mix_of_2000"].items()))
    text = "\n".join(
        [
            f"## Home care: risk evaluation and a doctor's worklist ({c['patients']:,} patients)",
            "",
            "What: `bench/care.py`. Risk: `hotline.care.risk.evaluate` (NEWS2, warning signs,"
            f" severity, tier) over {risk['checkins']:,} varied check-ins (tiers of the first"
            f" 2,000: {mix}), pinned to core {risk['cpu']}, median of {risk['runs']} runs."
            f" Worklist: `GET /api/v1/care/worklist` through the ASGI app on PostgreSQL with"
            f" {c['patients']:,} followed patients, three days of check-in slots, the read log"
            f" written; {c['requests']} requests per doctor after warm-up. The target is the"
            f" typical doctor's (a full list at the default capacity, {c['capacity']});"
            " the heavy one (500 patients, the list's limit) is shown for information.",
            "",
            markdown_table(
                ["risk evaluation", "check-ins/s (median)", "slowest run"],
                [["product", fmt(risk["rate_median"], 0), fmt(risk["rate_min"], 0)]],
            ),
            "",
            markdown_table(
                ["worklist", "patients listed", "p50 ms", "p95 ms", "max ms"],
                [
                    [who, v["patients"], fmt(v["p50_ms"]), fmt(v["p95_ms"]), fmt(v["max_ms"])]
                    for who, v in w.items()
                ],
            ),
        ]
    )
    typical = w["typical"]["p95_ms"]
    summary = [
        [
            "care: risk evaluation; worklist",
            f"≥ {r['target_rate']:,.0f} check-ins/s one core; p95 ≤ {r['target_ms']:g} ms",
            f"{fmt(risk['rate_median'], 0)}/s; p95 {fmt(typical)} ms",
            "—",
            "—",
            verdict(r["passed"]),
        ]
    ]
    return text, summary


def channels_section(r: dict[str, Any]) -> tuple[str, list[str]]:
    """Targets: webhook intake >= 1,000 events/s with p99 <= 100 ms; outbox >= 500 replies/s."""
    c, t, s = r["config"], r["targets"], r["summary"]
    ck = s["verdict"]["checks"]
    text = [
        "## Channels: Zalo webhooks in, replies out",
        "",
        "What: `bench/channels.py`, the product as deployed (uvicorn, 2 workers, production"
        " environment, a fresh PostgreSQL database per run with a Zalo channel) and a fake Zalo"
        " send API in its own process (`bench/fake_provider.py`). Medians of"
        f" {c['runs']} runs.",
        "",
    ]
    summary = []
    if "intake" in s:
        i = s["intake"]
        text += [
            f"Intake: wrk, {c['concurrency']} connections, {c['duration']:g} s after"
            f" {c['warmup']:g} s warm-up, signed `user_send_text` webhooks to `/hooks/{{id}}`"
            f" with unique `msg_id`s from about one user per {c['events_per_user']:g} events"
            f" and {c['repeat_fraction'] * 100:g} % exact redeliveries; afterwards the requests"
            " cut off in flight are delivered again and the database must hold one message per"
            " distinct `msg_id` sent.",
            "",
            markdown_table(
                ["run", "deliveries/s", "new events/s", "p50 ms", "p99 ms", "non-2xx", "stored"],
                [
                    [
                        x["run"],
                        fmt(x["intake"]["rps"]),
                        fmt(x["intake"]["stored_per_s"]),
                        fmt(x["intake"]["latency_ms"]["p50"]),
                        fmt(x["intake"]["latency_ms"]["p99"]),
                        x["intake"]["non2xx"],
                        f"{x['intake']['check']['messages_stored']:,} of"
                        f" {x['intake']['check']['distinct_events_sent']:,}"
                        + ("" if x["intake"]["check"]["ok"] else " **MISMATCH**"),
                    ]
                    for x in r["runs"]
                    if x.get("intake")
                ],
            ),
            "",
            f"- deliveries/s **{fmt(i['deliveries_per_s_median'])}** (target ≥"
            f" {t['min_events_per_s']:,.0f}) — {verdict(ck['intake_throughput'])}; p99"
            f" **{fmt(i['p99_ms_median'])} ms** (target ≤ {t['max_p99_ms']:g} ms) —"
            f" {verdict(ck['intake_p99'])}; each event stored once, no errors —"
            f" {verdict(ck['intake_exactly_once'])}",
            "",
        ]
        summary.append(
            [
                "Zalo webhook intake",
                f"≥ {t['min_events_per_s']:,.0f} events/s, p99 ≤ {t['max_p99_ms']:g} ms",
                f"{fmt(i['deliveries_per_s_median'])} /s, p99 {fmt(i['p99_ms_median'])} ms",
                "—",
                "—",
                verdict(ck["intake_throughput"] and ck["intake_p99"] and ck["intake_exactly_once"]),
            ]
        )
    if "outbox" in s:
        o = s["outbox"]
        text += [
            "Outbox, in the same database after the intake half, whose events' queued"
            " triage jobs are dropped first (left, a worker would still be reading them"
            " while the replies are timed):"
            f" `hotline worker --processes {c['worker_procs']}` running (as deployed)"
            f" while {c['conversations']:,} citizens write in (their triage jobs run as they"
            f" arrive), then paused while {c['replies']:,} replies are queued through"
            " `conversations.reply`, resumed and timed until every reply is `sent` (a running"
            " worker draining a backlog; its CPU per reply measured too)."
            f" The fake answers {c['fail_5xx'] * 100:g} % of requests 503"
            f" (retried after the reply's backoff) and {c['timeouts'] * 100:g} % past the"
            f" {c['send_timeout']:g} s send timeout (delivered; confirmed by Zalo's echo"
            " webhook, which the fake posts for every reply it delivers, as Zalo does);"
            " every reply must reach it exactly once.",
            "",
            markdown_table(
                [
                    "run",
                    "replies/s",
                    "from first delivery",
                    "all sent in s",
                    "worker CPU ms/reply",
                    "503s",
                    "late",
                    "doubled",
                    "lost",
                ],
                [
                    [
                        x["run"],
                        fmt(x["outbox"]["replies_per_s"]),
                        fmt(x["outbox"]["replies_per_s_from_first_delivery"]),
                        fmt(x["outbox"]["seconds_to_all_sent"]),
                        fmt(x["outbox"].get("worker_cpu_ms_per_reply")),
                        x["outbox"]["fake"]["answered_5xx"],
                        x["outbox"]["fake"]["answered_late"],
                        x["outbox"]["check"]["doubled"],
                        x["outbox"]["check"]["lost"],
                    ]
                    for x in r["runs"]
                    if x.get("outbox")
                ],
            ),
            "",
            f"- replies/s until all sent **{fmt(o['replies_per_s_median'])}** (target ≥"
            f" {t['min_replies_per_s']:,.0f}) — {verdict(ck['outbox_throughput'])}; each"
            f" delivered once — {verdict(ck['outbox_exactly_once'])}",
        ]
        summary.append(
            [
                "outbox to a local fake Zalo, retries on",
                f"≥ {t['min_replies_per_s']:,.0f} replies/s",
                f"{fmt(o['replies_per_s_median'])} /s",
                "—",
                "—",
                verdict(ck["outbox_throughput"] and ck["outbox_exactly_once"]),
            ]
        )
    return "\n".join(text), summary


def render(results: dict[str, Any]) -> str:
    machine = next(iter(results.values()))["machine"] if results else {}
    when = max(r["started_at"] for r in results.values()) if results else "—"
    sections, summary = [], []
    for name, fn in (("intake", intake_section), ("report", report_section)):
        if name in results:
            text, rows = fn(results[name])
            sections.append(text)
            summary += [[*row, _measured(results[name])] for row in rows]
    from dupreport import doc_section as duplicates_section

    for name, fn2 in (
        ("search", search_section),
        ("triage", triage_section),
        ("triage_speed", triage_speed_section),
        ("kb_search", kb_search_section),
        ("duplicates", duplicates_section),
        ("acd", acd_section),
        ("staffing", staffing_section),
        ("care", care_section),
        ("sip_calls", sip_calls_section),
        ("phone", phone_section),
        ("page_weight", page_weight_section),
        ("pages", pages_section),
        ("live", live_section),
        ("channels", channels_section),
    ):
        if name in results:
            text, rows = fn2(results[name])
            sections.append(text)
            summary += [[*row, _measured(results[name])] for row in rows]
    head = [
        "# Benchmarks",
        "",
        "Generated by `bench/run_all.py` (`make bench`) from `bench/results/*.json`; do not"
        " edit by hand.",
        "",
        f"Last run: {when[:19].replace('T', ' ')} UTC (all times UTC). `make bench` runs"
        " every benchmark;"
        " `--only NAME` re-runs one and keeps the others' last results, so each target says"
        " when it was measured (always on a machine of the kind described below).",
        "",
        "## Machine",
        "",
        machine_section(machine),
        "",
        "## Targets",
        "",
        markdown_table(
            [
                "benchmark",
                "target",
                "product",
                "baseline (same run)",
                "ratio",
                "result",
                "measured",
            ],
            summary,
        ),
        "",
    ]
    findings = BENCH / "FINDINGS.md"
    extra = [findings.read_text()] if findings.exists() else []
    return "\n".join(head + [s + "\n" for s in sections] + extra + [NOTES])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = RESULTS_DIR / "quick" if args.quick else RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    if not args.render_only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = set(wanted) - set(NAMES)
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        cmds = commands(args.quick, args.fresh, out)
        started = datetime.now(UTC)
        for name in wanted:
            took = run(name, [*cmds[name], "--output", str(out / f"{name}.json")])
            print(f"=== {name} done in {took:.0f} s", flush=True)
        print(f"\nall done in {(datetime.now(UTC) - started).total_seconds():.0f} s")
    text = render(load(out))
    if args.quick:
        print(text)
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
