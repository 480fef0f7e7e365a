"""Knowledge-base search benchmark: 10,000 articles, operator queries, SQLite and PostgreSQL.

The product path is the real one: `hotline.knowledge.queries.search_articles` (what
`GET /api/v1/knowledge/articles?q=` runs: published, valid today, every word in any order,
the last as a prefix, ranked; FTS5 on SQLite, the stored tsvector + GIN on PostgreSQL), a
fresh session and transaction per query as the API opens. `suggest_articles` (any word,
scored; what the case page and chat channels call) is timed on the same queries too.

Baseline, measured in the same run on the same database: the obvious naive search over the
same folded text, each word as `LIKE '%word%'` (AND), same filters, newest first, same page.

Articles are generated from templates and vocabulary (subjects x aspects x places, answers
from phrase pools), ~90 % published, some drafts, archived and expired. Queries (default 500)
are what operators type: 2-5 words of an article's question, without diacritics, in
shuffled order, a third with the last word cut short (typing as you go).

    python bench/kb_search.py                      # both engines, 10,000 articles
    python bench/kb_search.py --engines sqlite --queries 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import RESULTS_DIR, fmt, machine_description, markdown_table, pg_dsn, summarise
from datagen import db_url, pg_create_database, pg_drop_database

SUBJECTS = [
    "giấy đi đường",
    "xét nghiệm nhanh",
    "xét nghiệm RT-PCR",
    "cách ly tại nhà",
    "hỗ trợ gạo",
    "hỗ trợ tiền thuê nhà",
    "tiêm vắc xin mũi 2",
    "chứng nhận tiêm chủng",
    "đo SpO2",
    "thuốc hạ sốt",
    "luồng xanh vận tải",
    "phiếu đi chợ",
    "khai báo y tế",
    "trợ cấp thất nghiệp",
    "hỗ trợ lao động tự do",
    "khu cách ly tập trung",
    "xe cấp cứu",
    "máy tạo oxy",
    "thẻ xanh COVID",
    "chốt kiểm soát",
    "suất ăn F0",
    "túi thuốc F0",
    "bác sĩ tư vấn",
    "trạm y tế lưu động",
    "người cao tuổi neo đơn",
    "phụ nữ mang thai",
    "trẻ em dưới 12 tuổi",
    "công nhân lưu trú",
    "shipper giao hàng",
    "chợ dân sinh",
    "siêu thị mini",
    "nhà thuốc",
    "bệnh viện dã chiến",
    "tiền điện nước",
    "học phí",
    "tiền hỗ trợ F1",
    "giấy xác nhận khỏi bệnh",
    "phong tỏa khu dân cư",
    "tổ COVID cộng đồng",
    "vé số",
    "xe ôm công nghệ",
]
ASPECTS = [
    "ở đâu",
    "thủ tục thế nào",
    "cần giấy tờ gì",
    "mất bao lâu",
    "có mất phí không",
    "ai được hưởng",
    "khi nào áp dụng",
    "đăng ký trực tuyến được không",
    "gọi số nào",
    "bị từ chối thì làm sao",
    "ngoài giờ hành chính",
    "cho người không có hộ khẩu",
]
PLACES = [
    "Ba Đình",
    "Hoàn Kiếm",
    "Cầu Giấy",
    "Đống Đa",
    "Hai Bà Trưng",
    "Thanh Xuân",
    "Long Biên",
    "Hà Đông",
    "Thuận An",
    "Dĩ An",
    "Thủ Dầu Một",
    "Tân Uyên",
    "Bến Cát",
    "Bàu Bàng",
    "Kim Mã",
    "Ngọc Hà",
    "Cửa Nam",
    "Láng Thượng",
    "Lái Thiêu",
    "An Phú",
    "Bình Hòa",
    "Phú Lợi",
]
ANSWER_PHRASES = [
    "Liên hệ UBND phường nơi cư trú để được hướng dẫn.",
    "Mang theo căn cước công dân và giấy tờ liên quan.",
    "Trường hợp khẩn cấp gọi ngay 115.",
    "Tổ dân phố lập danh sách và gửi trạm y tế phường.",
    "Thời gian giải quyết không quá 3 ngày làm việc.",
    "Không thu phí đối với người thuộc diện hỗ trợ.",
    "Có thể đăng ký qua ứng dụng PC-Covid hoặc Sổ sức khỏe điện tử.",
    "Người dân gọi 1022 để được chuyển yêu cầu tới đơn vị có thẩm quyền.",
    "Áp dụng theo Chỉ thị 16/CT-TTg trong thời gian giãn cách.",
    "Mức hỗ trợ theo Nghị quyết 68/NQ-CP và quy định của địa phương.",
    "Đeo khẩu trang, giữ khoảng cách và khai báo y tế khi ra ngoài.",
    "Theo dõi nhiệt độ và SpO2 hai lần mỗi ngày, ghi lại kết quả.",
]
CATEGORIES = [
    "ho_tro_kho_khan",
    "cap_cuu",
    "bao_cao_ca_benh",
    "tu_van_suc_khoe",
    "phan_anh_vi_pham",
    "co_so_cach_ly",
    "chinh_sach_ho_tro",
    "tiem_vac_xin",
    "di_lai_giay_to",
    "xet_nghiem",
    "an_ninh_trat_tu",
    "thong_tin_chi_dao",
    "khac",
]
PAGE = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--queries", type=int, default=500, help="timed queries per engine")
    p.add_argument("--engines", default="sqlite,postgresql")
    p.add_argument("--target-p95-ms", type=float, default=50.0)
    p.add_argument("--fresh", action="store_true", help="accepted for run_all; always fresh")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "kb_search.json")
    return p.parse_args(argv)


def generate_articles(n: int, today: date) -> list[dict[str, Any]]:
    """Deterministic, varied Vietnamese articles with every field the product reads."""
    from hotline.knowledge.service import Content, search_fields

    rng = random.Random(1022)
    combos = [(s, a, p) for s in SUBJECTS for a in ASPECTS for p in PLACES]
    rng.shuffle(combos)
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        subject, aspect, place = combos[i % len(combos)]
        round_no = i // len(combos)
        question = (
            f"{subject.capitalize()} {aspect} tại {place}"
            + (f" (đợt {round_no + 1})" if round_no else "")
            + "?"
        )
        answer = f"Về {subject}: " + " ".join(rng.sample(ANSWER_PHRASES, 3))
        roll = rng.random()
        status = "published" if roll < 0.9 else ("draft" if roll < 0.95 else "archived")
        valid_until = today - timedelta(days=rng.randint(1, 400)) if rng.random() < 0.1 else None
        content = Content(
            question=question,
            answer=answer,
            category_code=rng.choice(CATEGORIES),
            source_document=rng.choice(["Chỉ thị 16/CT-TTg", "Nghị quyết 68/NQ-CP", ""]),
            valid_until=valid_until,
        )
        rows.append(
            {
                "slug": f"bai-{i + 1}",
                "status": status,
                "version": 2,
                "published_version": 2 if status == "published" else None,
                "question": question,
                "answer": answer,
                "category_code": content.category_code,
                "source_document": content.source_document,
                "valid_until": valid_until,
                "use_count": 0,
                "created_at": now - timedelta(minutes=i),
                "updated_at": now - timedelta(minutes=i),
                **search_fields(content),
            }
        )
    return rows


def operator_queries(articles: list[dict[str, Any]], n: int) -> list[str]:
    """2-5 folded words of a published article's question, shuffled, sometimes cut short."""
    from hotline.knowledge.matching import query_terms

    rng = random.Random(115)
    live = [a for a in articles if a["status"] == "published" and a["valid_until"] is None]
    out = []
    for _ in range(n):
        words = query_terms(rng.choice(live)["question"])
        k = min(len(words), rng.randint(2, 5))
        picked = rng.sample(words, k)
        if rng.random() < 0.33 and len(picked[-1]) > 3:
            picked[-1] = picked[-1][: rng.randint(2, len(picked[-1]) - 1)]
        out.append(" ".join(picked))
    return out


async def load(url: str, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    from hotline.db import create_engine
    from hotline.knowledge.models import Article

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for start in range(0, len(rows), 1000):
                await conn.execute(insert(Article), rows[start : start + 1000])
            if url.startswith("postgresql"):
                await conn.exec_driver_sql("ANALYZE article")
    finally:
        await engine.dispose()


def naive_stmt(q: str, day: date) -> Any:
    from sqlalchemy import and_, select

    from hotline.knowledge.models import Article
    from hotline.knowledge.queries import published_and_valid
    from hotline.text import search_terms

    text = Article.search_question + " " + Article.search_body
    return (
        select(Article)
        .where(published_and_valid(day), and_(*(text.like(f"%{w}%") for w in search_terms(q))))
        .order_by(Article.updated_at.desc(), Article.id.desc())
        .limit(PAGE + 1)
    )


async def measure(url: str, queries: list[str]) -> dict[str, Any]:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.knowledge.queries import ArticleFilter, search_articles, today
    from hotline.knowledge.suggest import suggest_articles
    from hotline.settings import load_settings
    from hotline.site import Site

    engine = create_engine(url)
    maker = make_sessionmaker(engine, Site.from_settings(load_settings()))

    async def product(q: str) -> tuple[float, int]:
        async with maker() as session, session.begin():
            t0 = time.perf_counter()
            hits, _ = await search_articles(session, filters=ArticleFilter(q=q), limit=PAGE)
            return (time.perf_counter() - t0) * 1000, len(hits)

    async def suggest(q: str) -> float:
        async with maker() as session, session.begin():
            t0 = time.perf_counter()
            await suggest_articles(session, text=q)
            return (time.perf_counter() - t0) * 1000

    async def baseline(q: str) -> tuple[float, int]:
        async with maker() as session, session.begin():
            t0 = time.perf_counter()
            rows = (await session.scalars(naive_stmt(q, today(session)))).all()
            return (time.perf_counter() - t0) * 1000, len(rows)

    prod, sugg, base, empty = [], [], [], 0
    try:
        for q in queries[:20]:  # warm-up: caches, prepared plans
            await product(q)
            await baseline(q)
        # Interleaved, so load from other work on the box hits all three alike.
        for q in queries:
            ms, n = await product(q)
            prod.append(ms)
            empty += n == 0
            sugg.append(await suggest(q))
            base.append((await baseline(q))[0])
    finally:
        await engine.dispose()
    return {
        "product": summarise(prod),
        "suggest": summarise(sugg),
        "baseline": summarise(base),
        "queries_without_hits": empty,
        "speedup_p50_vs_baseline": statistics.median(base) / statistics.median(prod),
    }


def run_engine(engine: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from hotline.migrate import upgrade
    from hotline.settings import normalise_database_url

    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'kb.sqlite3'}"
    else:
        asyncio.run(pg_create_database(pg_dsn(), "hotline_bench_kb"))
        url = normalise_database_url(db_url(pg_dsn(), "hotline_bench_kb"))
    try:
        upgrade(url)
        asyncio.run(_bootstrap_categories(url))
        rows = generate_articles(args.articles, datetime.now(UTC).date())
        t0 = time.monotonic()
        asyncio.run(load(url, rows))
        load_s = time.monotonic() - t0
        queries = operator_queries(rows, args.queries)
        res = asyncio.run(measure(url, queries))
    finally:
        if engine == "postgresql":
            asyncio.run(pg_drop_database(pg_dsn(), "hotline_bench_kb"))
    res.update(
        engine=engine,
        articles=args.articles,
        load_seconds=round(load_s, 2),
        sample_queries=queries[:8],
        passed=res["product"]["p95_ms"] <= args.target_p95_ms,
    )
    return res


async def _bootstrap_categories(url: str) -> None:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.directory.service import ensure_default_categories
    from hotline.settings import Settings
    from hotline.site import Site

    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine, Site.from_settings(Settings()))() as s, s.begin():
            await ensure_default_categories(s)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        for engine in engines:
            print(f"kb_search: {args.articles:,} articles, {args.queries} queries on {engine}")
            results.append(run_engine(engine, args, Path(tmp)))
    out = {
        "benchmark": "kb_search",
        "started_at": started.isoformat(),
        "machine": asyncio.run(machine_description(pg_dsn())),
        "config": {"articles": args.articles, "queries": args.queries, "page_size": PAGE},
        "target_p95_ms": args.target_p95_ms,
        "engines": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(render(out))
    print(f"\nresults written to {args.output}")
    return 0


def render(result: dict[str, Any]) -> str:
    rows = []
    for e in result["engines"]:
        for label, key in (
            ("search_articles (product)", "product"),
            ("suggest_articles", "suggest"),
            ("baseline LIKE", "baseline"),
        ):
            s = e[key]
            rows.append(
                [e["engine"], label, s["n"]]
                + [fmt(s[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
            )
    return markdown_table(
        ["engine", "implementation", "queries", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows
    )


if __name__ == "__main__":
    sys.exit(main())
