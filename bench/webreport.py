"""Sections of docs/benchmarks.md for the page and live-dashboard benchmarks."""

from __future__ import annotations

from typing import Any

from common import fmt, markdown_table


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**PASS**" if ok else "**FAIL**")


def pages_table(r: dict[str, Any]) -> str:
    rows = []
    for p in r["pages"]:
        s, b = p["server"], p["baseline"]
        rows.append(
            [
                f"`{p['path']}`",
                p["role"],
                p["what"],
                fmt(s["p50_ms"]),
                fmt(s["p95_ms"]),
                fmt(s["p99_ms"]),
                fmt(p["client"]["p50_ms"]),
                fmt(b["p50_ms"]),
                f"×{fmt(p['product_over_baseline_p50'])}",
                "yes" if p["passed"] else "**no**",
            ]
        )
    o = r["overall"]
    rows.append(
        ["all pages", "", "", fmt(o["p50_ms"]), fmt(o["p95_ms"]), fmt(o["p99_ms"]), "", "", "",
         "yes" if r["passed"] else "**no**"]
    )  # fmt: skip
    return markdown_table(
        [
            "page",
            "as",
            "what",
            "server p50 ms",
            "p95",
            "p99",
            "client p50",
            "baseline p50 ms",
            "product ÷ baseline",
            f"p95 ≤ {r['target_p95_ms']:g}",
        ],
        rows,
    )


def pages_section(r: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """Target: console list, inbox and dashboard with 1M cases, p95 <= 150 ms server time."""
    c, site, m = r["config"], r["site"], r["machine"]
    ch = c["chosen"]
    worst = max(r["pages"], key=lambda p: p["server"]["p95_ms"])
    text = "\n".join(
        [
            f"## Pages on {c['cases']:,} cases",
            "",
            "What: `bench/pages.py` starts the product as deployed (uvicorn, "
            f"{c['workers']} workers, production settings) on the site database of"
            f" `bench/sitedata.py`: the cached {c['cases']:,}-case history, taken by"
            f" {ch['operators']} operators and forwarded to {ch['units']} units"
            f" ({ch['committees']} ward committees), plus the last four weeks of a"
            f" working site laid as of the run ({site['recent_cases']:,} cases,"
            f" {site['cases_today']:,} of them today; {site['open_cases']:,} open cases,"
            f" {site['active_forwardings']:,} forwardings held of which"
            f" {site['overdue_forwardings']:,} overdue). An operator, a supervisor and the"
            " officer of the unit holding the most forwardings sign in with a cookie session;"
            f" one sequential client requests every page {c['rounds']} times in shuffled order"
            " after a warm-up round. Server time is the `ms` of the product's access line for"
            " the request (outermost middleware), matched by `X-Request-ID`; client p50 is"
            " over loopback. Baseline in the same run, server stopped: the naive query behind"
            ' each page through asyncpg (`SELECT * FROM "case" WHERE <same filter> ORDER BY'
            f" created_at DESC LIMIT {c['list_size']}`; the inbox's join; the dashboard's"
            " counts over today's raw rows), {} rounds. Load average at start".format(
                c["baseline_rounds"]
            )
            + f" {fmt(m.get('loadavg_1m'), 2)}, at end {fmt(r.get('loadavg_1m_end'), 2)}.",
            "",
            pages_table(r),
        ]
    )
    o = r["overall"]
    summary = [
        [
            f"pages (console, list, inbox, dashboard), {c['cases'] / 1e6:g}M cases",
            f"p95 ≤ {r['target_p95_ms']:g} ms each",
            f"p50 {fmt(o['p50_ms'])} / p95 {fmt(o['p95_ms'])} ms; worst p95"
            f" {fmt(worst['server']['p95_ms'])} (`{worst['path']}`)",
            "naive query per page",
            "—",
            _verdict(r["passed"]),
        ]
    ]
    return text, summary


def live_table(r: dict[str, Any]) -> str:
    rows = []
    runs = [
        ("product, as the page" if r["config"]["refresh"] else "product, streams", "product"),
        ("product, streams only", "product_streams"),
        ("baseline (bare fan-out)", "baseline"),
    ]
    for label, key in runs:
        e = r.get(key)
        if not e:
            continue
        s, a = e["from_send"] or {}, e["from_ack"] or {}
        rows.append(
            [
                label,
                f"{e['deliveries_expected']:,}",
                e["lost"],
                fmt(s.get("p50_ms")),
                fmt(s.get("p95_ms")),
                fmt(s.get("p99_ms")),
                fmt(s.get("max_ms")),
                fmt(a.get("p99_ms")),
                fmt(e["post_ms"]["p50_ms"] if e["post_ms"] else None),
                fmt(e["client_loop_lag_p99_ms"]),
                f"{fmt(e['server_cores'], 2)} / {fmt(e['client_cores'], 2)}",
            ]
        )
    return markdown_table(
        [
            "server",
            "deliveries",
            "lost",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "p99 from ack",
            "POST p50 ms",
            "client lag p99",
            "cores server / client",
        ],
        rows,
    )


def live_section(r: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """Target: 200 dashboards connected, a new case reaches all of them with p99 <= 250 ms."""
    c, p, m = r["config"], r["product"], r["machine"]
    refresh = p.get("refresh")
    lines = [
        f"## Live dashboards: {c['dashboards']} connected",
        "",
        "What: `bench/live.py` starts the product as deployed (uvicorn,"
        f" {c['workers']} workers, production settings, PostgreSQL NOTIFY between them) on the"
        f" site database of the page benchmark; {c['dashboards']} supervisors' browsers sign"
        " in (a cookie session each) and open the dashboard's stream `GET /api/v1/events`"
        + (
            "; each also fetches `/dashboard/live` again after case events the way the page's"
            " script does (at most once per 2 s, 0.3–1.5 s after the event)"
            if c["refresh"]
            else " (streams only, no fragment fetches)"
        )
        + f". An operator then creates {c['cases']} cases through `POST /api/v1/cases`, one"
        f" every {c['interval_s'] * 1000:g} ms; the delay is from the POST's send (and from its"
        " answer) to the `case.created` event's arrival on each connection, over loopback, one"
        " asyncio client process (its event-loop lag is shown). Baseline in the same run:"
        " `bench/live_baseline_app.py`, a bare Starlette SSE fan-out in one process, measured"
        f" the same way. Load average at start {fmt(m.get('loadavg_1m'), 2)}, at end"
        f" {fmt(r.get('loadavg_1m_end'), 2)}.",
        "",
        live_table(r),
    ]
    if refresh:
        lines += [
            "",
            f"- the dashboards' fragment fetches: {refresh['n']:,}, p50"
            f" {fmt(refresh['p50_ms'])} ms, p95 {fmt(refresh['p95_ms'])} ms (errors:"
            f" {p['refresh_errors']})",
        ]
    s = p["from_send"] or {}
    b = r["baseline"]["from_send"] or {}
    summary = [
        [
            f"live: a new case on {c['dashboards']} dashboards",
            f"p99 ≤ {r['target_p99_ms']:g} ms, none lost",
            f"p99 {fmt(s.get('p99_ms'))} ms, {p['lost']} lost",
            f"p99 {fmt(b.get('p99_ms'))} ms",
            f"×{fmt(r['p99_over_baseline'])}",
            _verdict(r["passed"]),
        ]
    ]
    return "\n".join(lines), summary
