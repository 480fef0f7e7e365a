"""Duplicates: suggestion on intake and for a case, clusters, merge in one action, and the
answer of a primary reaching the reporters of the cases merged into it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from hotline.cases.models import Case
from hotline.jobs.models import Job, JobStatus
from hotline.jobs.worker import run_due_jobs
from hotline.reports.rebuild import rebuild_counters
from tests.cases.helpers import API, assert_problem, create, events, forward, get, ok
from tests.conftest import live_events

pytestmark = pytest.mark.anyio

SUBJECTS = [
    "Có khoảng 30 người tụ tập đánh bài",
    "Nhiều người tụ tập đánh bài",
    "Đám đông tụ tập đánh bài",
    "Nhóm thanh niên tụ tập đánh bài",
    "tu tap danh bai dong nguoi",
]
PLACES = ["ở đầu ngõ 45 Kim Mã", "tại ngõ 45 Kim Mã", "o ngo 45 kim ma", "đầu ngõ 45 phố Kim Mã"]
EXTRAS = ["không đeo khẩu trang", "ko deo khau trang", "đề nghị phường xử lý", "từ chiều đến giờ"]
# Twenty reports of one gathering, as different callers put it (with and without diacritics).
GATHERING = [f"{SUBJECTS[i % 5]} {PLACES[i % 4]}, {EXTRAS[(i // 4) % 4]}" for i in range(20)]
# Same ward, same hours, other problems (some at the same address or with the same category).
DISTRACTORS = [
    ("Gia đình tôi 5 người hết gạo, xin hỗ trợ lương thực", "ho_tro_kho_khan"),
    ("Bà cụ sống một mình ở ngõ 45 Kim Mã cần hỗ trợ thực phẩm", "ho_tro_kho_khan"),
    ("Mẹ tôi khó thở, SpO2 91, cần xe cấp cứu gấp", "cap_cuu"),
    ("Quán karaoke ở phố Kim Mã vẫn mở cửa hát hò đến khuya", "phan_anh_vi_pham"),
    ("Hàng xóm đi cách ly về không khai báo y tế", "phan_anh_vi_pham"),
    ("Xin hỏi lịch tiêm vắc xin mũi 3 cho người già ở phường", "tiem_vac_xin"),
]
SUPPORT = "/api/v1/duplicates"


def _report(i: int, text: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "phone",
        "description": text,
        "category": "phan_anh_vi_pham",
        "ward_code": "00004",
        "address": "",
        "contact": {"name": f"Người báo {i}", "phone": f"09123456{i:02d}"},
    }
    body.update(extra)
    return body


async def _gathering(client, world, n: int = 20) -> list[str]:
    return [(await create(client, world, **_report(i, GATHERING[i])))["code"] for i in range(n)]


async def _distractors(client, world) -> list[str]:
    codes = []
    for i, (text, category) in enumerate(DISTRACTORS):
        body = _report(50 + i, text, category=category)
        codes.append((await create(client, world, **body))["code"])
    return codes


async def _suggested(client, world, code: str, who: str = "operator", limit: int = 20) -> list:
    r = await client.get(
        f"{API}/{code}/duplicates", params={"limit": limit}, headers=world.auth(who)
    )
    assert r.status_code == 200, r.text
    return r.json()


async def _age(app, codes: list[str], delta: timedelta) -> None:
    """Move cases back in time (what a week of waiting would do)."""
    async with app.state.hotline.unit_of_work() as s:
        for code in codes:
            at = await s.scalar(select(Case.created_at).where(Case.code == code))
            await s.execute(update(Case).where(Case.code == code).values(created_at=at - delta))


async def test_twenty_reports_of_one_gathering_are_suggested_as_duplicates_of_each_other(
    app, client, world
):
    gathering = await _gathering(client, world)
    distractors = await _distractors(client, world)
    # The calls came in over five hours.
    for i, code in enumerate(gathering):
        await _age(app, [code], timedelta(minutes=15 * i))
    for code in (gathering[0], gathering[7], gathering[19]):
        found = await _suggested(client, world, code)
        codes = [s["code"] for s in found]
        assert set(codes) == set(gathering) - {code}  # all nineteen others, nothing else
        best = found[0]
        assert best["reasons"]["same_ward"] is True
        assert "minutes_apart" in best["reasons"] and best["reasons"]["shared_words"]
        assert [s["score"] for s in found] == sorted((s["score"] for s in found), reverse=True)
    for code in distractors:
        assert not set(s["code"] for s in await _suggested(client, world, code)) & set(gathering)

    # A new report asks for suggestions at intake.
    r = await client.post(
        API,
        params={"suggest_duplicates": "true"},
        json=_report(21, "Lại có người tụ tập đánh bài ở ngõ 45 Kim Mã, không ai đeo khẩu trang"),
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    possible = r.json()["possible_duplicates"]
    assert len(possible) == 5 and {p["code"] for p in possible} <= set(gathering)
    assert set(possible[0]) == {"code", "score", "reasons", "status", "created_at", "description"}
    # Without the flag intake does no suggestion work.
    plain = await create(client, world, **_report(22, GATHERING[3]))
    assert plain["possible_duplicates"] is None
    # "yes"/"1" ask as "true" does; anything else is refused by name, and nothing is written.
    for flag in ("yes", "1"):
        r = await client.post(
            API,
            params={"suggest_duplicates": flag},
            json=_report(23, GATHERING[4]),
            headers=world.auth("operator"),
        )
        assert r.status_code == 201 and r.json()["possible_duplicates"] is not None, r.text
    listed = {"limit": 200}
    before = len(
        (await client.get(API, params=listed, headers=world.auth("operator"))).json()["items"]
    )
    r = await client.post(
        API,
        params={"suggest_duplicates": "maybe"},
        json=_report(24, GATHERING[5]),
        headers=world.auth("operator"),
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "suggest_duplicates" in r.text
    after = (await client.get(API, params=listed, headers=world.auth("operator"))).json()["items"]
    assert len(after) == before


async def test_similar_text_in_another_ward_or_a_week_later_is_not_suggested(app, client, world):
    here = (await create(client, world, **_report(1, GATHERING[0])))["code"]
    elsewhere = (await create(client, world, **_report(2, GATHERING[1], ward_code="00008")))["code"]
    old = (await create(client, world, **_report(3, GATHERING[2])))["code"]
    await _age(app, [old], timedelta(days=7))
    assert await _suggested(client, world, here) == []
    assert await _suggested(client, world, elsewhere) == []
    # ... while the same text in the same ward and hours is.
    again = (await create(client, world, **_report(4, GATHERING[3])))["code"]
    assert [s["code"] for s in await _suggested(client, world, again)] == [here]


async def test_typos_and_missing_diacritics_still_match_before_saving(client, world):
    gathering = await _gathering(client, world, 5)
    await _distractors(client, world)
    body = {
        "text": "co nguoi tu tap danh bai dong nguoi o ngo 45 kim maa, ko deo khau trag",
        "ward_code": "00004",
        "category": "phan_anh_vi_pham",
    }
    r = await client.post(f"{API}/duplicates/suggest", json=body, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    assert {s["code"] for s in r.json()} == set(gathering)
    # Nothing is suggested for an unrelated request.
    body["text"] = "Xin hỏi khi nào được nhận tiền hỗ trợ người lao động tự do"
    r = await client.post(f"{API}/duplicates/suggest", json=body, headers=world.auth("operator"))
    assert r.json() == []


async def test_suggest_refuses_empty_text_and_unit_officers(client, world):
    r = await client.post(
        f"{API}/duplicates/suggest", json={"text": "  "}, headers=world.auth("operator")
    )
    assert_problem(r, 422, "text")
    r = await client.post(
        f"{API}/duplicates/suggest", json={"text": "tụ tập"}, headers=world.auth("officer")
    )
    assert_problem(r, 403)


async def test_clusters_group_the_reports_of_one_event_biggest_first(client, world):
    gathering = await _gathering(client, world, 8)
    fire = [
        (await create(client, world, **_report(30 + i, t, category="an_ninh_trat_tu")))["code"]
        for i, t in enumerate(
            [
                "Cháy lớn ở kho hàng số 7 phố Đội Cấn, khói đen bốc cao",
                "chay kho hang so 7 doi can khoi den rat nhieu",
                "Kho hàng số 7 Đội Cấn đang cháy, khói đen mù mịt",
            ]
        )
    ]
    distractors = await _distractors(client, world)
    r = await client.get(f"{SUPPORT}/clusters", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [c["size"] for c in items] == [8, 3]
    assert {c["code"] for c in items[0]["cases"]} == set(gathering)
    assert items[0]["primary"] == gathering[0]  # the oldest
    assert items[0]["cases"][0]["code"] == gathering[0]
    assert {c["code"] for c in items[1]["cases"]} == set(fire)
    clustered = {c["code"] for item in items for c in item["cases"]}
    assert not clustered & set(distractors)
    # Filters by ward and category.
    r = await client.get(
        f"{SUPPORT}/clusters", params={"category": "an_ninh_trat_tu"}, headers=world.auth("admin")
    )
    assert [c["size"] for c in r.json()["items"]] == [3]
    r = await client.get(
        f"{SUPPORT}/clusters", params={"ward": "00008"}, headers=world.auth("admin")
    )
    assert r.json()["items"] == []


async def test_a_forwarded_case_is_the_suggested_primary_of_its_cluster(client, world):
    gathering = await _gathering(client, world, 4)
    await ok(client, world, "operator", gathering[2], "forward", {"unit_id": world.units["ward_a"]})
    r = await client.get(f"{SUPPORT}/clusters", headers=world.auth("supervisor"))
    assert r.json()["items"][0]["primary"] == gathering[2]


async def test_only_supervisors_and_admins_see_clusters(client, world):
    for who in ("officer", "operator", "doctor"):
        r = await client.get(f"{SUPPORT}/clusters", headers=world.auth(who))
        assert_problem(r, 403)
    r = await client.get(
        f"{SUPPORT}/clusters",
        params={"from": "2026-01-01T00:00:00", "to": "2026-03-01T00:00:00"},
        headers=world.auth("supervisor"),
    )
    assert_problem(r, 422, "from")


async def _summary(client, world) -> dict[str, Any]:
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    r = await client.get(
        "/api/v1/reports/summary", params={"from": today, "to": today}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_merge_marks_all_in_one_action_logs_the_timeline_and_keeps_counts(app, client, world):
    gathering = await _gathering(client, world, 6)
    before = await _summary(client, world)
    primary, dups = gathering[0], gathering[1:]
    r = await client.post(
        f"{SUPPORT}/merge",
        json={"primary": primary, "duplicates": dups, "note": "Cùng một vụ tụ tập"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["merged"] == dups and r.json()["notifications"] == 0
    for code in dups:
        case = await get(client, world, code)
        assert case["status"] == "duplicate" and case["duplicate_of"] == primary
        assert [e["kind"] for e in await events(client, world, code)][-1] == "marked_duplicate"
    detail = await get(client, world, primary)
    assert sorted(detail["duplicates"]) == sorted(dups)
    merged = [e for e in await events(client, world, primary) if e["kind"] == "merged"]
    assert len(merged) == 1
    reporters = merged[0]["data"]["reporters"]
    assert [p["case"] for p in reporters] == dups
    assert reporters[0]["contact_id"] == (await get(client, world, dups[0]))["contact_id"]
    assert reporters[0]["channel"] == "phone" and merged[0]["reason"] == "Cùng một vụ tụ tập"
    after = await _summary(client, world)
    assert after["requests"] == before["requests"] and after["requests"]["total"] == 6
    assert after["handling"] == before["handling"]
    # The incremental counters still equal a recount from the raw rows.
    async with app.state.hotline.unit_of_work() as s:
        await rebuild_counters(s)
    assert (await _summary(client, world))["requests"] == after["requests"]
    r = await client.get(API, params={"status": "duplicate"}, headers=world.auth("operator"))
    assert len(r.json()["items"]) == 5


async def test_a_unit_reads_a_merge_on_its_case_without_the_other_reporters(client, world):
    """The unit holding the primary learns which cases were merged into it, not who reported
    them: their contact ids stay with hotline staff."""
    primary, *dups = await _gathering(client, world, 3)
    await forward(client, world, primary)
    await _merge(client, world, primary, dups)

    officer = [e for e in await events(client, world, primary, "officer") if e["kind"] == "merged"]
    staff = [e for e in await events(client, world, primary, "supervisor") if e["kind"] == "merged"]

    assert officer[0]["data"]["duplicates"] == dups
    assert "reporters" not in officer[0]["data"]
    assert [r["case"] for r in staff[0]["data"]["reporters"]] == dups


async def test_merge_rolls_back_whole_when_one_case_cannot_be_merged(client, world):
    gathering = await _gathering(client, world, 4)
    closed = gathering[3]
    await ok(client, world, "operator", closed, "resolve", {"answer": "Đã xử lý"})
    await ok(client, world, "operator", closed, "close")
    r = await client.post(
        f"{SUPPORT}/merge",
        json={"primary": gathering[0], "duplicates": gathering[1:]},
        headers=world.auth("supervisor"),
    )
    body = assert_problem(r, 409, "duplicates")
    assert closed in body["detail"] and gathering[1] not in body["detail"]
    for code in gathering[1:3]:
        assert (await get(client, world, code))["status"] == "new"
        assert [e["kind"] for e in await events(client, world, code)] == ["created"]
    assert "merged" not in [e["kind"] for e in await events(client, world, gathering[0])]
    r = await client.post(
        f"{SUPPORT}/merge",
        json={"primary": gathering[0], "duplicates": ["ZZZZ-ZZZZ"]},
        headers=world.auth("supervisor"),
    )
    assert_problem(r, 404, "duplicates")
    r = await client.post(
        f"{SUPPORT}/merge",
        json={"primary": gathering[0], "duplicates": [gathering[0]]},
        headers=world.auth("supervisor"),
    )
    assert_problem(r, 422, "duplicates")


async def test_operators_and_officers_cannot_merge(client, world):
    gathering = await _gathering(client, world, 2)
    for who in ("operator", "officer"):
        r = await client.post(
            f"{SUPPORT}/merge",
            json={"primary": gathering[0], "duplicates": [gathering[1]]},
            headers=world.auth(who),
        )
        assert_problem(r, 403)
    assert (await get(client, world, gathering[1]))["status"] == "new"


async def test_merging_a_primary_repoints_its_duplicates_to_the_new_primary(client, world):
    a, b, c, d = await _gathering(client, world, 4)
    await _merge(client, world, b, [c, d])
    await _merge(client, world, a, [b])
    for code in (b, c, d):
        assert (await get(client, world, code))["duplicate_of"] == a
    merged = next(e for e in await events(client, world, a) if e["kind"] == "merged")
    assert merged["data"]["repointed"] == [c, d]
    assert [r["case"] for r in merged["data"]["reporters"]] == [b, c, d]
    assert "duplicate_repointed" in [e["kind"] for e in await events(client, world, c)]


async def _merge(client, world, primary: str, dups: list[str]) -> dict[str, Any]:
    r = await client.post(
        f"{SUPPORT}/merge",
        json={"primary": primary, "duplicates": dups},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return r.json()


async def _jobs(app) -> list[Job]:
    async with app.state.hotline.sessionmaker() as s:
        return list((await s.scalars(select(Job).where(Job.kind == "notify_reporter"))).all())


async def test_resolving_the_primary_shares_the_answer_and_notifies_each_reporter(
    app, client, world
):
    gathering = await _gathering(client, world, 4)
    # A second report from the first caller, by Zalo: one reporter, one notification.
    again = await create(
        client, world, **_report(0, GATHERING[5], channel="zalo", contact={"phone": "0912345601"})
    )
    zalo = await create(client, world, **_report(9, GATHERING[6], channel="zalo"))
    primary, dups = gathering[0], [*gathering[1:], again["code"], zalo["code"]]
    await _merge(client, world, primary, dups)
    assert await _jobs(app) == []
    answer = "Công an phường đã giải tán nhóm tụ tập và nhắc nhở đeo khẩu trang"
    await ok(client, world, "operator", primary, "resolve", {"answer": answer})
    for code in dups:
        case = await get(client, world, code)
        assert case["answer"] == answer and case["status"] == "duplicate"
        assert "answer_shared" in [e["kind"] for e in await events(client, world, code)]
    jobs = await _jobs(app)
    # Reporters 1, 2, 3 (phone), 9 (zalo); reporter 0's second case reached her on the primary.
    assert len(jobs) == 4 and all(j.status == JobStatus.QUEUED for j in jobs)
    assert await run_due_jobs(app.state.hotline.sessionmaker) == 4
    assert all(j.status == JobStatus.DONE for j in await _jobs(app))
    phone_note = [
        e for e in await events(client, world, gathering[1]) if e["kind"] == "notification_pending"
    ]
    assert len(phone_note) == 1 and phone_note[0]["data"]["delivery"] == "callback"
    zalo_note = [
        e for e in await events(client, world, zalo["code"]) if e["kind"] == "notification_pending"
    ]
    assert zalo_note[0]["data"]["delivery"] == "pending_channel"
    assert "Zalo" in zalo_note[0]["reason"]
    assert not [
        e for e in await events(client, world, again["code"]) if e["kind"] == "notification_pending"
    ]


async def test_a_case_merged_into_an_answered_primary_gets_the_answer_at_once(app, client, world):
    primary, late = await _gathering(client, world, 2)
    await ok(client, world, "operator", primary, "resolve", {"answer": "Đã giải tán"})
    result = await _merge(client, world, primary, [late])
    assert result["notifications"] == 1
    assert (await get(client, world, late))["answer"] == "Đã giải tán"
    assert len(await _jobs(app)) == 1
    await run_due_jobs(app.state.hotline.sessionmaker)
    # Running the worker again finds nothing and records nothing twice.
    assert await run_due_jobs(app.state.hotline.sessionmaker) == 0
    notes = [e for e in await events(client, world, late) if e["kind"] == "notification_pending"]
    assert len(notes) == 1


async def test_a_unit_resolving_the_primary_shares_the_answer_too(app, client, world):
    primary, dup = await _gathering(client, world, 2)
    await _merge(client, world, primary, [dup])
    await ok(client, world, "operator", primary, "forward", {"unit_id": world.units["ward_a"]})
    await ok(client, world, "officer", primary, "accept")
    await ok(client, world, "officer", primary, "resolve", {"answer": "Phường đã xử lý"})
    assert (await get(client, world, dup))["answer"] == "Phường đã xử lý"
    assert len(await _jobs(app)) == 1


async def test_merge_publishes_live_case_events(app, client, world):
    primary, dup = await _gathering(client, world, 2)
    async with live_events(app) as queue:
        await _merge(client, world, primary, [dup])
        await app.state.hotline.feed.sync()
        kinds = []
        while not queue.empty():
            kinds.append(queue.get_nowait().kind)
    assert {"case.merged", "case.marked_duplicate", "case.duplicate_linked"} <= set(kinds)


async def test_unit_officers_are_only_suggested_cases_of_their_unit(client, world):
    gathering = await _gathering(client, world, 4)
    for code in gathering[:2]:
        await ok(client, world, "operator", code, "forward", {"unit_id": world.units["ward_a"]})
    found = await _suggested(client, world, gathering[0], who="officer")
    assert [s["code"] for s in found] == [gathering[1]]
    r = await client.get(f"{API}/{gathering[2]}/duplicates", headers=world.auth("officer"))
    assert_problem(r, 404)
