"""The public FAQ (page and JSON) and the idempotent `hotline kb import`."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from hotline.auth.service import SYSTEM
from hotline.cli import app as cli
from hotline.db import utcnow
from hotline.demo.load import KNOWLEDGE_FILE
from hotline.errors import InvalidInput
from hotline.knowledge.importer import import_articles
from tests.knowledge.helpers import API, create, published

pytestmark = pytest.mark.anyio
FAQ_JSON = "/api/v1/public/faq"


async def test_faq_page_shows_published_valid_articles_in_vietnamese_by_category(client, world):
    today = utcnow().date()
    await published(client, world)
    await published(
        client,
        world,
        question="SpO2 bao nhiêu thì gọi cấp cứu?",
        answer="Khi SpO2 từ 95% trở xuống, gọi ngay 115.",
        category="cap_cuu",
        source_document="Quyết định 4377/QĐ-BYT",
    )
    await create(client, world, question="Bản nháp chưa duyệt")
    await published(
        client, world, question="Quy định đã hết hạn", valid_until=str(today - timedelta(days=1))
    )
    r = await client.get("/faq")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="vi">' in html
    assert "Hỏi đáp thường gặp" in html
    assert "Đi lại, giấy tờ" in html and "Cấp cứu" in html
    assert "Xin giấy đi đường ở đâu trong thời gian giãn cách?" in html
    assert "Căn cứ: Quyết định 4377/QĐ-BYT" in html
    assert "Bản nháp chưa duyệt" not in html
    assert "Quy định đã hết hạn" not in html


async def test_faq_page_searches_without_diacritics(client, world):
    await published(client, world)
    await published(
        client,
        world,
        question="SpO2 bao nhiêu thì gọi cấp cứu?",
        answer="Gọi 115.",
        category="cap_cuu",
    )
    r = await client.get("/faq", params={"q": "duong giay di"})
    assert "Xin giấy đi đường" in r.text
    assert "SpO2 bao nhiêu" not in r.text
    assert "Tìm thấy 1 câu trả lời" in r.text
    r = await client.get("/faq", params={"q": "<script>xyz</script>"})
    assert r.status_code == 200
    assert "<script>xyz" not in r.text
    assert "Chưa có câu trả lời phù hợp" in r.text


async def test_public_faq_json_needs_no_sign_in_and_hides_drafts(client, world):
    a = await published(client, world)
    await create(client, world, question="Giấy đi đường bản nháp")
    r = await client.get(FAQ_JSON, params={"q": "giay di duong"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["slug"] for i in items] == [a["slug"]]
    assert items[0]["category_name"] == "Đi lại, giấy tờ"
    assert "id" not in items[0] and "use_count" not in items[0]
    r = await client.get(f"{FAQ_JSON}/{a['slug']}")
    assert r.status_code == 200
    assert r.json()["question"] == a["question"]


async def test_public_faq_article_is_404_unless_published_and_valid_today(client, world):
    draft = await create(client, world, slug="nhap")
    expired = await published(
        client,
        world,
        slug="het-han",
        valid_until=str(utcnow().date() - timedelta(days=2)),
    )
    for slug in (draft["slug"], expired["slug"], "khong-co"):
        r = await client.get(f"{FAQ_JSON}/{slug}")
        assert r.status_code == 404
        assert r.json()["field"] == "slug"


def _cli(database_url: str, tmp_path: Path, *args: str) -> Any:
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(tmp_path / "var")}
    return CliRunner().invoke(cli, ["kb", "import", *args], env=env)


async def test_cli_import_is_idempotent_on_slug(database_url, tmp_path, client, world):
    rows = [
        {
            "slug": "giay-di-duong",
            "question": "Giấy đi đường cấp ở đâu?",
            "answer": "Công an phường cấp.",
            "category": "di_lai_giay_to",
            "source_document": "Chỉ thị 16/CT-TTg",
            "valid_from": "2021-07-24",
        },
        {"slug": "nhap", "question": "Bài nháp", "answer": "Chưa duyệt.", "status": "draft"},
    ]
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    first = await anyio.to_thread.run_sync(partial(_cli, database_url, tmp_path, str(path)))
    assert first.exit_code == 0, first.output
    assert "2 mới" in first.output
    again = await anyio.to_thread.run_sync(partial(_cli, database_url, tmp_path, str(path)))
    assert again.exit_code == 0, again.output
    assert "0 mới, 0 cập nhật, 2 không đổi" in again.output
    r = await client.get(
        API, params={"status": ["draft", "published"]}, headers=world.auth("admin")
    )
    by_slug = {a["slug"]: a for a in r.json()["items"]}
    assert by_slug["giay-di-duong"]["status"] == "published"
    assert by_slug["giay-di-duong"]["version"] == 2
    assert by_slug["nhap"]["status"] == "draft"
    # A changed row becomes a new revision and is published again.
    rows[0]["answer"] = "Công an phường nơi cư trú cấp, có mã QR."
    csv_path = tmp_path / "kb.csv"
    csv_path.write_text(
        "slug,question,answer,category,source_document,valid_from\n"
        f'giay-di-duong,{rows[0]["question"]},"{rows[0]["answer"]}",di_lai_giay_to,'
        "Chỉ thị 16/CT-TTg,2021-07-24\n",
        encoding="utf-8-sig",
    )
    third = await anyio.to_thread.run_sync(partial(_cli, database_url, tmp_path, str(csv_path)))
    assert third.exit_code == 0, third.output
    assert "0 mới, 1 cập nhật, 0 không đổi, 1 xuất bản" in third.output
    a = (
        await client.get(f"{API}/{by_slug['giay-di-duong']['id']}", headers=world.auth("operator"))
    ).json()
    assert a["answer"] == "Công an phường nơi cư trú cấp, có mã QR."
    assert a["version"] == 4


async def test_cli_import_rejects_a_bad_row_naming_it_and_writes_nothing(
    database_url, tmp_path, client, world
):
    path = tmp_path / "kb.json"
    rows = [
        {"slug": "a", "question": "Câu hỏi", "answer": "Trả lời"},
        {"slug": "b", "question": "Câu hỏi", "answer": "Trả lời", "valid_until": "31/12/2021"},
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    result = await anyio.to_thread.run_sync(partial(_cli, database_url, tmp_path, str(path)))
    assert result.exit_code == 2
    assert "rows[1].valid_until" in result.output
    r = await client.get(
        API, params={"status": ["draft", "published"]}, headers=world.auth("admin")
    )
    assert r.json()["items"] == []


async def test_import_names_the_row_of_a_service_error(app):
    rows = [{"slug": "a", "question": "Q", "answer": "A", "category": "khong_co"}]
    async with app.state.hotline.unit_of_work() as session:
        with pytest.raises(InvalidInput) as err:
            await import_articles(session, actor=SYSTEM, rows=rows)
    assert err.value.field == "rows[0].category"


async def test_demo_articles_load_and_answer_the_common_questions(app, client, world):
    rows = json.loads(KNOWLEDGE_FILE.read_text(encoding="utf-8"))
    assert len(rows) >= 30
    async with app.state.hotline.unit_of_work() as session:
        result = await import_articles(session, actor=SYSTEM, rows=rows)
    assert result.created == len(rows)
    for text, slug in [
        ("giay di duong", "giay-di-duong-cap-o-dau"),
        ("spo2 bao nhieu thi goi cap cuu", "spo2-bao-nhieu-goi-cap-cuu"),
        ("nha e het gao roi, xin ho tro", "ho-tro-gao-luong-thuc"),
        ("f0 o nha can lam gi", "f0-tai-nha-can-lam-gi"),
        ("dang ky tiem vac xin", "dang-ky-tiem-vac-xin"),
    ]:
        r = await client.post(
            "/api/v1/knowledge/suggest", json={"text": text}, headers=world.auth("operator")
        )
        assert r.json()[0]["slug"] == slug, (text, [s["slug"] for s in r.json()])


async def test_public_faq_is_rate_limited_per_client_with_a_problem(settings):
    import httpx

    from hotline.app import create_app

    limited = create_app(settings.model_copy(update={"public_requests_per_minute": 3}))
    transport = httpx.ASGITransport(app=limited)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            codes = [(await c.get("/api/v1/public/faq")).status_code for _ in range(3)]
            assert codes == [200, 200, 200]
            r = await c.get("/api/v1/public/faq", params={"q": "giay di duong"})
            assert r.status_code == 429
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "thử lại sau" in r.json()["detail"]
            assert (await c.get("/faq")).status_code == 429
            # signed-in staff routes are not counted against the public allowance
            assert (await c.get("/api/v1/knowledge/articles")).status_code == 401
    finally:
        await limited.state.hotline.close()
