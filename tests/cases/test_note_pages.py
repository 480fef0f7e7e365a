"""Notes from the case page over HTTP: the form, its refusals next to the field with the
text kept, who gets which button, and a note that leaves the page's actions valid."""

from __future__ import annotations

import re

import pytest

from tests.cases.helpers import API, create, events, forward, get
from tests.cases.test_pages import csrf_in, post_action, signed_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio


async def post_note(c, code: str, page: str, **fields: str):
    return await c.post(f"/cases/{code}/notes", data={"csrf": csrf_in(page), **fields})


def textarea(html: str, name: str = "note-text") -> str:
    match = re.search(rf'<textarea id="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, html
    return match.group(1)


async def test_an_operator_writes_an_internal_note_and_a_reply_from_the_case_page(
    client,
    world,
    signed_in,  # noqa: F811
):
    code = (await create(client, world))["code"]
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{code}")).text
        assert 'id="add-note"' in page and 'id="add-reply"' in page
        r = await post_note(
            c, code, page, text="  Đã gọi, hẹn gọi lại 15h. ", visibility="internal"
        )
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{code}?done=note"
        page = (await c.get(r.headers["location"])).text
        assert "Đã lưu ghi chú nội bộ." in page
        assert re.search(r'kind-note">.*?<p class="note">Đã gọi, hẹn gọi lại 15h\.</p>', page, re.S)
        r = await post_note(c, code, page, text="Tổng đài đã chuyển phường.", visibility="reply")
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{code}?done=reply"
        page = (await c.get(r.headers["location"])).text
        assert "Đã gửi trả lời cho người dân." in page
        assert re.search(
            r'kind-reply">.*?<p class="reply">Tổng đài đã chuyển phường\.</p>', page, re.S
        )
    assert [e["kind"] for e in await events(client, world, code)] == ["created", "note", "reply"]


async def test_a_refused_note_is_explained_next_to_the_field_with_the_text_kept(
    client,
    world,
    signed_in,  # noqa: F811
):
    code = (await create(client, world))["code"]
    long = "Nội dung rất dài " * 300  # over 4,000 characters
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{code}")).text
        r = await post_note(c, code, page, text=long, visibility="reply")
        assert r.status_code == 422
        assert re.search(
            r'<p class="error" id="text-error" role="alert">Nội dung tối đa 4000', r.text
        )
        assert 'aria-invalid="true"' in r.text and "note-help text-error" in r.text
        assert textarea(r.text) == long
        r = await post_note(c, code, page, text="   ", visibility="internal")
        assert r.status_code == 422 and "Nhập nội dung ghi chú" in r.text
        # A page kept open too long (its form token gone): said on top, the text kept.
        r = await c.post(f"/cases/{code}/notes", data={"csrf": "cu", "text": "Ghi chú"})
        assert r.status_code == 422 and 'id="stale"' in r.text
        assert textarea(r.text) == "Ghi chú"
    assert [e["kind"] for e in await events(client, world, code)] == ["created"]


async def test_a_unit_officer_gets_the_internal_note_only_and_another_unit_a_404(
    client,
    world,
    signed_in,  # noqa: F811
):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    async with signed_in("officer") as c:
        page = (await c.get(f"/cases/{code}")).text
        assert 'id="add-note"' in page and 'id="add-reply"' not in page
        # A reply forced past the page is refused by the service, next to the buttons.
        r = await post_note(c, code, page, text="Phường đến chiều nay", visibility="reply")
        assert r.status_code == 403 and 'id="visibility-error"' in r.text
        assert textarea(r.text) == "Phường đến chiều nay"
        r = await post_note(c, code, page, text="Phường đến chiều nay", visibility="internal")
        assert r.status_code == 303
    async with signed_in("outsider") as c:
        token = csrf_in((await c.get("/inbox")).text)
        r = await c.post(f"/cases/{code}/notes", data={"csrf": token, "text": "x"})
        assert r.status_code == 404 and "Phường đến chiều nay" not in r.text
    kinds = [(e["kind"], e["unit_id"]) for e in await events(client, world, code)]
    assert kinds[-1] == ("note", world.units["ward_a"])


async def test_an_action_prepared_before_a_colleagues_note_still_goes_through(
    client,
    world,
    signed_in,  # noqa: F811
):
    code = (await create(client, world))["code"]
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{code}")).text  # the operator starts typing an answer
        async with signed_in("supervisor") as lead:
            lead_page = (await lead.get(f"/cases/{code}")).text
            r = await post_note(lead, code, lead_page, text="Ca này ưu tiên", visibility="internal")
            assert r.status_code == 303
        r = await post_action(c, code, "resolve", page, answer="Đã hướng dẫn người dân.")
        assert r.status_code == 303, r.text
    assert (await get(client, world, code))["status"] == "resolved"


async def test_a_knowledge_base_answer_goes_into_the_reply_in_one_click_and_counts(
    client,
    world,
    signed_in,  # noqa: F811
):
    from tests.knowledge.helpers import published

    article = await published(
        client,
        world,
        question="Hộ gia đình hết gạo được hỗ trợ lương thực ở đâu?",
        answer="UBND phường tiếp nhận và cấp gạo hỗ trợ trong 24 giờ.",
        category="ho_tro_kho_khan",
    )
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")  # the hotline no longer resolves it
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{code}")).text
        assert 'id="resolve"' not in page
        into_reply = 'data-target="note-text" data-article-field="note-article_id"'
        assert f'{into_reply} data-article-id="{article["id"]}"' in page
        r = await post_note(
            c, code, page, text=article["answer"], visibility="reply", article_id=str(article["id"])
        )
        assert r.status_code == 303, r.text
    timeline = await events(client, world, code)
    assert [e["kind"] for e in timeline[-2:]] == ["reply", "article_used"]
    r = await client.get(
        f"/api/v1/knowledge/articles/{article['id']}", headers=world.auth("operator")
    )
    assert r.json()["use_count"] == 1
    # Neither the reply nor the article's use is a change an action could be stale against.
    detail = await client.get(f"{API}/{code}", headers=world.auth("operator"))
    assert detail.json()["version"] == timeline[-3]["id"]
