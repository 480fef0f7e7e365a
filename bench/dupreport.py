"""Tables of the duplicates benchmark, for its own output and docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from common import fmt, markdown_table


def render(result: dict[str, Any]) -> str:
    rows, qrows = [], []
    for r in result["engines"]:
        p, b, qy = r["product"], r["baseline"], r["quality"]
        rows.append(
            [
                f"{r['engine']} {r['cases'] / 1e6:g}M",
                p["n"],
                fmt(p["p50_ms"]),
                fmt(p["p95_ms"]),
                fmt(p["p99_ms"]),
                fmt(r["product_cold"]["p95_ms"]),
                fmt(b["p50_ms"]),
                fmt(b["p95_ms"]),
                f"×{fmt(r['ratio_p95'])}",
                "PASS" if r["passed"] else "FAIL",
            ]
        )
        qrows.append(
            [
                r["engine"],
                qy["dup_queries"],
                qy["novel_queries"],
                fmt(100 * qy["hit_at_1"]),
                fmt(100 * qy["hit_at_5"]),
                fmt(100 * qy["recall_at_5"]),
                fmt(100 * (qy["precision"] or 0)),
                fmt(100 * qy["novel_without_suggestion"]),
            ]
        )
    return (
        markdown_table(
            [
                "dataset",
                "queries",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "cold p95 ms",
                "naive p50 ms",
                "naive p95 ms",
                "naive ÷ product (p95)",
                f"p95 ≤ {result['target_p95_ms']:g} ms",
            ],
            rows,
        )
        + "\n\n"
        + markdown_table(
            [
                "engine",
                "event reports",
                "novel reports",
                "hit@1 %",
                "hit@5 %",
                "recall@5 %",
                "precision %",
                "novel: none suggested %",
            ],
            qrows,
        )
    )


def doc_section(r: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """The docs/benchmarks.md section and summary rows (used by run_all.py)."""
    c = r["config"]
    text = [
        "## Duplicate suggestion (`suggest_duplicates`)",
        "",
        "What: `hotline.duplicates.service.suggest_duplicates` for a new report (limit 5),"
        " timed inside a transaction, on the cached 1M-case datasets plus an overlay rebuilt"
        f" each run: the last 72 h opened, {c['events']} labelled events reported 2–20 times"
        f" each, and a surge of {c['surge']:,} open cases in one ward (so the candidate cap is"
        f" hit). {c['dup_queries']} new reports of existing events (fresh paraphrases, no"
        f" diacritics, shorthand, typos) and {c['novel_queries']} reports of new events."
        " Warm = the product's feature cache as in steady use; cold = cache cleared before"
        " every query. Baseline in the same run (naive scan): every open case of the 72 h"
        f" window in any ward, all scored, no cap ({c['baseline_queries']} queries).",
        "",
        render(r),
        "",
        "Clusters (`find_clusters`, last 72 h, ward by ward): "
        + "; ".join(
            f"{e['engine']}: {e['clusters']['wards']} wards, p50"
            f" {fmt(e['clusters']['p50_ms'])} ms, surge ward ({e['clusters']['hot_ward_cases']:,}"
            f" open cases) {fmt(e['clusters']['hot_ward_ms'])} ms, pair precision"
            f" {fmt(100 * (e['clusters']['pair_precision'] or 0))} %, pair recall"
            f" {fmt(100 * (e['clusters']['pair_recall'] or 0))} %"
            for e in r["engines"]
        )
        + ".",
        "",
        "Quality: hit@1/hit@5 = a true duplicate is first / among the five suggestions;"
        " recall@5 = true duplicates shown ÷ min(5, reports of the event); precision = true"
        " duplicates ÷ all suggestions (event and novel reports); last column = novel reports"
        " with no suggestion at all. A 'wrong' suggestion is mostly another event of the same"
        " kind in the same ward within hours (two outages two streets apart), which a"
        " supervisor would want to see anyway.",
    ]
    rows = []
    for e in r["engines"]:
        p, b = e["product"], e["baseline"]
        rows.append(
            [
                f"duplicates {e['engine']} {e['cases'] / 1e6:g}M",
                f"p95 ≤ {r['target_p95_ms']:g} ms",
                f"p50 {fmt(p['p50_ms'])} / p95 {fmt(p['p95_ms'])} / p99 {fmt(p['p99_ms'])} ms",
                f"naive p50 {fmt(b['p50_ms'])} / p95 {fmt(b['p95_ms'])} ms",
                f"×{fmt(e['ratio_p95'])} (p95)",
                "**PASS**" if e["passed"] else "**FAIL**",
            ]
        )
    return "\n".join(text), rows
