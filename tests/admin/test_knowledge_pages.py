"""The knowledge base's editor at /admin/knowledge: drafts, publication, history and the
difference between two revisions."""

from __future__ import annotations

import re

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.errors import NotAllowed, NotFound
from hotline.knowledge import service
from hotline.knowledge.models import Article
from hotline.knowledge.service import Content
from tests.admin.helpers import page_client, post_form

pytestmark = pytest.mark.anyio

EDITOR = Actor(user_id=None, username="sup", role=Role.SUPERVISOR)
OPERATOR = Actor(user_id=None, username="op", role=Role.OPERATOR)
ARTICLE = {
    "question": "Làm sao đăng ký nhận hỗ trợ lương thực?",
    "answer": "Liên hệ UBND phường nơi cư trú.\nMang theo căn cước.",
    "category": "ho_tro_kho_khan",
    "source_document": "",
    "source_url": "",
    "valid_from": "",
    "valid_until": "",
    "note": "bản đầu",
}


async def test_compare_revisions_shows_the_changed_lines_of_the_changed_fields(app, world):
    async with app.state.hotline.unit_of_work() as session:
        article = await service.create_article(
            session, actor=EDITOR, content=Content(question="Hỏi?", answer="Một.\nHai.")
        )
        await service.update_article(
            session, actor=EDITOR, article=article, changes={"answer": "Một.\nBa."}
        )
        diffs = await service.compare_revisions(
            session, actor=EDITOR, article=article, old=1, new=2
        )
        assert [(d.field, d.lines) for d in diffs] == [
            ("answer", [("same", "Một."), ("removed", "Hai."), ("added", "Ba.")])
        ]
        with pytest.raises(NotFound):
            await service.compare_revisions(session, actor=EDITOR, article=article, old=1, new=7)
        with pytest.raises(NotAllowed):
            await service.compare_revisions(session, actor=OPERATOR, article=article, old=1, new=2)


async def test_operators_are_refused_the_editor(app, world):
    operator = await page_client(app, "operator")
    r = await operator.get("/admin/knowledge")
    assert r.status_code == 403
    assert "Chỉ trưởng ca và quản trị viên xem được bài nháp, bài lưu trữ" in r.text


async def test_a_supervisor_drafts_publishes_edits_and_compares_revisions(app, world):
    editor = await page_client(app, "supervisor")
    index = await editor.get("/admin")
    assert 'href="/admin/knowledge"' in index.text
    r = await post_form(editor, "/admin/knowledge", "/admin/knowledge", **ARTICLE)
    assert r.status_code == 303, r.text
    page_url = r.headers["location"].split("?")[0]
    article_id = int(page_url.rsplit("/", 1)[1])
    page = await editor.get(r.headers["location"])
    assert "Đã tạo bản nháp." in page.text and 'id="status">Bản nháp' in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    r = await post_form(editor, page_url, f"{page_url}/publish", version=version, note="duyệt")
    assert r.status_code == 303
    # An edit of a published article waits as a draft; readers keep the published text.
    page = await editor.get(page_url)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    edited = {
        **ARTICLE,
        "answer": "Liên hệ UBND phường nơi cư trú.\nMang theo giấy tờ tùy thân.",
        "note": "sửa giấy tờ",
    }
    r = await post_form(editor, page_url, f"{page_url}/save", version=version, **edited)
    assert r.status_code == 303
    page = await editor.get(page_url)
    assert "có bản sửa chờ xuất bản" in page.text
    assert "giấy tờ tùy thân" in page.text  # the editor edits the draft
    async with app.state.hotline.unit_of_work() as session:
        article = await session.get(Article, article_id)
        assert article is not None and "căn cước" in article.answer
    # History: who and when, each revision; and the difference of two of them.
    history = re.search(r'id="h-history".*?</table>', page.text, re.S).group(0)
    assert history.count('<tr id="rev-') == 3
    assert "sửa giấy tờ" in history and "Supervisor" not in history
    assert re.search(r'<tr id="rev-3">.*?\d\d/\d\d/\d{4} \d\d:\d\d · supervisor', history, re.S)
    diff = await editor.get(f"{page_url}?old=2&new=3")
    section = re.search(r'id="diff".*?</section>', diff.text, re.S).group(0)
    assert re.search(r'class="diff-removed">.*Mang theo căn cước\.<', section)
    assert re.search(r'class="diff-added">.*Mang theo giấy tờ tùy thân\.<', section)
    assert "Câu hỏi" not in section  # unchanged fields are left out


async def test_a_refused_edit_keeps_the_text_and_a_stale_page_is_told_to_reload(app, world):
    editor = await page_client(app, "admin")
    bad = {**ARTICLE, "answer": "", "valid_from": "mai"}
    r = await post_form(editor, "/admin/knowledge", "/admin/knowledge", **bad)
    assert r.status_code == 422 and 'id="valid_from-error"' in r.text
    assert "Làm sao đăng ký nhận hỗ trợ lương thực?</textarea>" in r.text
    r = await post_form(editor, "/admin/knowledge", "/admin/knowledge", **{**bad, "valid_from": ""})
    assert r.status_code == 422 and 'id="answer-error"' in r.text
    r = await post_form(editor, "/admin/knowledge", "/admin/knowledge", **ARTICLE)
    page_url = r.headers["location"].split("?")[0]
    # Someone else saved meanwhile: the page's version is no longer the article's.
    r = await post_form(
        editor, page_url, f"{page_url}/save", version="1", **{**ARTICLE, "answer": "Khác."}
    )
    assert r.status_code == 303
    r = await post_form(
        editor, page_url, f"{page_url}/save", version="1", **{**ARTICLE, "answer": "Cũ."}
    )
    assert r.status_code == 409
    assert "Bài vừa được người khác sửa, vui lòng tải lại" in r.text
    assert "Cũ.</textarea>" in r.text
