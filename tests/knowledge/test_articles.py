"""Article life: drafts, publication, edits kept as history, archiving, roles, bad input."""

from __future__ import annotations

import pytest

from tests.conftest import live_events
from tests.knowledge.helpers import API, article_body, create, publish, published, search

pytestmark = pytest.mark.anyio
STAFF = ("admin", "supervisor", "operator", "officer", "doctor")


@pytest.mark.parametrize("who", ["admin", "supervisor"])
async def test_editors_create_drafts_and_publish(client, world, who):
    a = await create(client, world, who)
    assert a["status"] == "draft"
    assert a["version"] == 1
    assert a["slug"] == "xin-giay-di-duong-o-dau-trong-thoi-gian-gian-cach"
    p = await publish(client, world, a["id"], who)
    assert p["status"] == "published"
    assert p["published_version"] == 2
    assert p["published_at"] is not None


@pytest.mark.parametrize("who", ["operator", "officer", "doctor"])
async def test_other_roles_cannot_write(client, world, who):
    r = await client.post(API, json=article_body(), headers=world.auth(who))
    assert r.status_code == 403
    a = await published(client, world)
    r = await client.patch(f"{API}/{a['id']}", json={"answer": "x"}, headers=world.auth(who))
    assert r.status_code == 403
    for verb in ("publish", "archive"):
        r = await client.post(f"{API}/{a['id']}/{verb}", headers=world.auth(who))
        assert r.status_code == 403, verb


@pytest.mark.parametrize("who", STAFF)
async def test_every_staff_role_reads_published_articles(client, world, who):
    a = await published(client, world)
    r = await client.get(f"{API}/{a['id']}", headers=world.auth(who))
    assert r.status_code == 200
    assert r.json()["question"] == a["question"]


@pytest.mark.parametrize("who", ["operator", "officer", "doctor"])
async def test_drafts_and_archived_articles_are_404_to_readers(client, world, who):
    draft = await create(client, world)
    archived = await published(client, world, question="Bài cũ đã lưu trữ")
    r = await client.post(f"{API}/{archived['id']}/archive", headers=world.auth("supervisor"))
    assert r.json()["status"] == "archived"
    for a in (draft, archived):
        r = await client.get(f"{API}/{a['id']}", headers=world.auth(who))
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.get(f"{API}/{a['id']}/revisions", headers=world.auth(who))
        assert r.status_code == 404


async def test_reading_needs_sign_in(client, world):
    assert (await client.get(API)).status_code == 401


async def test_editing_a_published_article_keeps_the_published_text_until_republished(
    client, world
):
    a = await published(client, world, answer="Đăng ký tại Công an phường.")
    r = await client.patch(
        f"{API}/{a['id']}",
        json={"answer": "Đăng ký trực tuyến trên cổng dịch vụ công.", "note": "Chỉ thị mới"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["status"] == "published"
    assert edited["answer"] == "Đăng ký tại Công an phường."
    assert edited["draft"]["answer"] == "Đăng ký trực tuyến trên cổng dịch vụ công."
    # Readers and search still see the published text only.
    seen = (await client.get(f"{API}/{a['id']}", headers=world.auth("operator"))).json()
    assert seen["answer"] == "Đăng ký tại Công an phường."
    assert seen["draft"] is None
    assert await search(client, world, "truc tuyen") == []
    # Publishing the draft makes it live.
    republished = await publish(client, world, a["id"])
    assert republished["answer"] == "Đăng ký trực tuyến trên cổng dịch vụ công."
    assert republished["draft"] is None
    assert [h["id"] for h in await search(client, world, "truc tuyen")] == [a["id"]]
    r = await client.get(f"{API}/{a['id']}/revisions", headers=world.auth("supervisor"))
    history = [(x["number"], x["action"], x["answer"], x["note"]) for x in r.json()]
    old, new = "Đăng ký tại Công an phường.", "Đăng ký trực tuyến trên cổng dịch vụ công."
    assert history == [
        (1, "created", old, ""),
        (2, "published", old, ""),
        (3, "edited", new, "Chỉ thị mới"),
        (4, "published", new, ""),
    ]
    r = await client.get(f"{API}/{a['id']}/revisions", headers=world.auth("operator"))
    assert [x["number"] for x in r.json()] == [2, 4]


async def test_editing_a_draft_changes_it_in_place_with_a_revision(client, world):
    a = await create(client, world)
    r = await client.patch(
        f"{API}/{a['id']}", json={"question": "Giấy đi đường mẫu mới"}, headers=world.auth("admin")
    )
    assert r.json()["question"] == "Giấy đi đường mẫu mới"
    assert r.json()["version"] == 2
    assert r.json()["draft"] is None
    # Nothing changed: no new revision.
    r = await client.patch(
        f"{API}/{a['id']}", json={"question": "Giấy đi đường mẫu mới"}, headers=world.auth("admin")
    )
    assert r.json()["version"] == 2


async def test_publishing_twice_without_an_edit_is_a_conflict(client, world):
    a = await published(client, world)
    r = await client.post(f"{API}/{a['id']}/publish", headers=world.auth("supervisor"))
    assert r.status_code == 409
    assert r.json()["field"] == "status"


async def test_archived_article_leaves_search_and_comes_back_as_a_draft_when_edited(client, world):
    a = await published(client, world)
    await client.post(f"{API}/{a['id']}/archive", headers=world.auth("supervisor"))
    assert await search(client, world, "giay di duong") == []
    r = await client.post(f"{API}/{a['id']}/archive", headers=world.auth("supervisor"))
    assert r.status_code == 409
    r = await client.post(f"{API}/{a['id']}/publish", headers=world.auth("supervisor"))
    assert r.status_code == 409
    r = await client.patch(
        f"{API}/{a['id']}", json={"answer": "Không còn áp dụng."}, headers=world.auth("supervisor")
    )
    assert r.json()["status"] == "draft"
    assert (await publish(client, world, a["id"]))["answer"] == "Không còn áp dụng."


async def test_stale_version_is_a_conflict_naming_the_field(client, world):
    a = await create(client, world)
    r = await client.patch(
        f"{API}/{a['id']}", json={"answer": "Mới", "version": 7}, headers=world.auth("admin")
    )
    assert r.status_code == 409
    assert r.json()["field"] == "version"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"question": "  "}, "question"),
        ({"answer": ""}, "answer"),
        ({"category": "khong_co"}, "category"),
        ({"valid_from": "2021-09-01", "valid_until": "2021-08-01"}, "valid_until"),
        ({"valid_from": "01/09/2021"}, "valid_from"),
        ({"source_url": "javascript:alert(1)"}, "source_url"),
        ({"slug": "Giấy đi đường"}, "slug"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    client, world, overrides, field
):
    r = await client.post(API, json=article_body(**overrides), headers=world.auth("supervisor"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    r = await client.get(
        API, params={"status": ["draft", "published"]}, headers=world.auth("supervisor")
    )
    assert r.json()["items"] == []


async def test_edit_with_bad_dates_names_valid_until_and_keeps_the_article(client, world):
    a = await create(client, world, valid_from="2021-08-01")
    r = await client.patch(
        f"{API}/{a['id']}", json={"valid_until": "2021-07-01"}, headers=world.auth("supervisor")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "valid_until"
    r = await client.get(f"{API}/{a['id']}/revisions", headers=world.auth("supervisor"))
    assert len(r.json()) == 1


async def test_duplicate_slug_is_a_conflict(client, world):
    await create(client, world, slug="giay-di-duong")
    r = await client.post(
        API, json=article_body(slug="giay-di-duong"), headers=world.auth("supervisor")
    )
    assert r.status_code == 409
    assert r.json()["field"] == "slug"
    # Without a slug, one is derived from the question and made unique.
    a = await create(client, world)
    b = await create(client, world)
    assert b["slug"] == a["slug"] + "-2"


async def test_publishing_emits_a_domain_event(app, client, world):
    a = await create(client, world)
    async with live_events(app) as queue:
        await publish(client, world, a["id"])
        await app.state.hotline.feed.sync()
        event = queue.get_nowait()
    assert event.kind == "article.published"
    assert event.data["id"] == a["id"]
    assert event.data["status"] == "published"


async def test_publishing_a_version_the_editor_did_not_review_is_a_conflict(client, world):
    a = await published(client, world, answer="Đăng ký tại Công an phường.")
    r = await client.patch(
        f"{API}/{a['id']}", json={"answer": "Bản sửa thứ nhất."}, headers=world.auth("supervisor")
    )
    reviewed = r.json()["version"]
    # Another supervisor changes the pending draft after the first one read it...
    r = await client.patch(
        f"{API}/{a['id']}", json={"answer": "Bản sửa chưa ai duyệt."}, headers=world.auth("admin")
    )
    assert r.status_code == 200
    # ... so publishing "the version I reviewed" must not publish the newer text.
    r = await client.post(
        f"{API}/{a['id']}/publish", json={"version": reviewed}, headers=world.auth("supervisor")
    )
    assert r.status_code == 409
    assert r.json()["field"] == "version"
    seen = (await client.get(f"{API}/{a['id']}", headers=world.auth("operator"))).json()
    assert seen["answer"] == "Đăng ký tại Công an phường."
    r = await client.post(
        f"{API}/{a['id']}/archive", json={"version": reviewed}, headers=world.auth("supervisor")
    )
    assert r.status_code == 409
    assert r.json()["field"] == "version"
    r = await client.post(
        f"{API}/{a['id']}/publish", json={"version": reviewed + 1}, headers=world.auth("supervisor")
    )
    assert r.json()["answer"] == "Bản sửa chưa ai duyệt."


async def test_two_editors_creating_the_same_slug_at_once_get_one_article_and_a_409(
    app, client, world
):
    import anyio

    from hotline.auth.service import SYSTEM
    from hotline.knowledge.service import Content, create_article

    state = app.state.hotline
    answers: list = []
    async with state.sessionmaker() as session:
        await create_article(
            session, actor=SYSTEM, content=Content(question="Hỏi", answer="Đáp"), slug="cung-ma"
        )

        async def second() -> None:
            answers.append(
                await client.post(
                    API, json=article_body(slug="cung-ma"), headers=world.auth("supervisor")
                )
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(second)
            await anyio.sleep(1)  # the second request now waits on the slug's unique index
            await session.commit()
    assert answers[0].status_code == 409, answers[0].text
    assert answers[0].json()["field"] == "slug"
    r = await client.get(
        API, params={"status": ["draft", "published"]}, headers=world.auth("supervisor")
    )
    assert [a["slug"] for a in r.json()["items"]] == ["cung-ma"]
