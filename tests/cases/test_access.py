"""Who may see and act on which case: unit scoping, 404 rather than 403, personal-data log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.contacts.models import PersonalDataRead
from tests.cases.helpers import API, act, assert_problem, create, forward, get, ok
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


async def _list_codes(client, world, who: str, **params) -> list[str]:
    r = await client.get(API, params=params, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return [c["code"] for c in r.json()["items"]]


async def test_unit_officer_cannot_see_other_units_cases(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    for path in (f"{API}/{code}", f"{API}/{code}/events"):
        r = await client.get(path, headers=world.auth("outsider"))
        assert_problem(r, 404)
    for verb, body in (
        ("accept", None),
        ("resolve", {"answer": "x"}),
        ("return", {"reason": "x"}),
        ("take", None),
        ("close", None),
    ):
        assert_problem(await act(client, world, "outsider", code, verb, body), 404)
    r = await client.patch(f"{API}/{code}", json={"urgent": True}, headers=world.auth("outsider"))
    assert_problem(r, 404)
    detail = await get(client, world, code)
    assert detail["status"] == "forwarded"
    assert detail["urgent"] is False


async def test_unit_officer_cannot_see_cases_not_forwarded_to_anyone(client, world):
    code = (await create(client, world))["code"]
    assert_problem(await client.get(f"{API}/{code}", headers=world.auth("officer")), 404)
    assert code not in await _list_codes(client, world, "officer")


async def test_unit_officer_list_holds_only_their_units_cases(client, world):
    mine = (await create(client, world))["code"]
    theirs = (await create(client, world))["code"]
    nobody = (await create(client, world))["code"]
    await forward(client, world, mine, "ward_a")
    await forward(client, world, theirs, "ward_b")
    assert await _list_codes(client, world, "officer") == [mine]
    assert await _list_codes(client, world, "outsider") == [theirs]
    assert set(await _list_codes(client, world, "operator")) == {mine, theirs, nobody}
    # Asking for another unit explicitly does not widen what one may see.
    assert await _list_codes(client, world, "officer", unit=world.units["ward_b"]) == []


async def test_colleague_of_same_unit_sees_and_can_act(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    assert (await get(client, world, code, who="colleague"))["status"] == "forwarded"
    accepted = await ok(client, world, "colleague", code, "accept")
    assert accepted["status"] == "accepted"
    resolved = await ok(client, world, "officer", code, "resolve", {"answer": "Xong"})
    assert resolved["status"] == "resolved"


async def test_unit_officer_cannot_create_cases(client, world):
    r = await client.post(API, json=new_case_body(), headers=world.auth("officer"))
    assert_problem(r, 403)
    r = await client.post(API, json=new_case_body(), headers=world.auth("doctor"))
    assert_problem(r, 403)
    assert await _list_codes(client, world, "operator") == []


async def test_unit_officer_cannot_edit_their_units_case(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    r = await client.patch(f"{API}/{code}", json={"urgent": True}, headers=world.auth("officer"))
    assert_problem(r, 403)
    assert (await get(client, world, code))["urgent"] is False


async def test_doctor_sees_only_cases_forwarded_to_doctor_network(client, world):
    medical = (await create(client, world, category="tu_van_suc_khoe"))["code"]
    food = (await create(client, world))["code"]
    await forward(client, world, medical, "doctors")
    await forward(client, world, food, "ward_a")
    assert await _list_codes(client, world, "doctor") == [medical]
    assert (await get(client, world, medical, who="doctor"))["code"] == medical
    assert_problem(await client.get(f"{API}/{food}", headers=world.auth("doctor")), 404)
    accepted = await ok(client, world, "doctor", medical, "accept")
    assert accepted["status"] == "accepted"
    assert_problem(await act(client, world, "doctor", food, "accept"), 404)


async def test_staff_reading_case_with_contact_logs_personal_data_read(app, client, world):
    code = (await create(client, world))["code"]
    before = await _reads(app)
    detail = await get(client, world, code, who="supervisor")
    assert detail["contact"]["name"] == "Nguyễn Thị Lan"
    rows = await _reads(app)
    assert len(rows) == len(before) + 1
    row = rows[-1]
    assert row.contact_id == detail["contact"]["id"]
    assert row.purpose == "case_detail"
    async with app.state.hotline.sessionmaker() as session:
        supervisor = await session.scalar(select(User.id).where(User.username == "supervisor"))
        case_id = await session.scalar(select(Case.id).where(Case.code == code))
    assert row.user_id == supervisor
    assert row.case_id == case_id


async def test_reading_case_without_contact_logs_nothing(app, client, world):
    code = (await create(client, world, contact=None))["code"]
    before = len(await _reads(app))
    detail = await get(client, world, code)
    assert detail["contact"] is None
    assert len(await _reads(app)) == before


async def _reads(app) -> list[PersonalDataRead]:
    async with app.state.hotline.sessionmaker() as session:
        rows = await session.scalars(select(PersonalDataRead).order_by(PersonalDataRead.id))
        return list(rows.all())


async def test_unit_that_returned_a_case_loses_it_reporter_and_files(client, world):
    from tests.attachments.test_attachments import make_png

    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    png = {"file": ("anh.png", make_png(), "image/png")}
    r = await client.post(f"{API}/{code}/attachments", files=png, headers=world.auth("officer"))
    assert r.status_code == 201, r.text
    attachment_id = r.json()["id"]
    seen = await get(client, world, code, who="officer")
    assert seen["contact"]["phones"] == ["+84912345678"]

    await ok(client, world, "officer", code, "return", {"reason": "Không thuộc thẩm quyền"})

    for who in ("officer", "colleague"):
        for path in (
            f"{API}/{code}",
            f"{API}/{code}/events",
            f"{API}/{code}/attachments/{attachment_id}",
        ):
            assert_problem(await client.get(path, headers=world.auth(who)), 404)
        r = await client.post(f"{API}/{code}/attachments", files=png, headers=world.auth(who))
        assert_problem(r, 404)
        assert code not in await _list_codes(client, world, who)
        assert code not in await _list_codes(client, world, who, contact_id=seen["contact"]["id"])
    # Forwarded to the unit again, the case is theirs again.
    await forward(client, world, code, "ward_a")
    assert (await get(client, world, code, who="officer"))["status"] == "forwarded"


async def test_unit_that_resolved_a_case_still_reads_its_answer(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await ok(client, world, "officer", code, "resolve", {"answer": "Đã hỗ trợ 20 kg gạo"})
    assert (await get(client, world, code, who="officer"))["answer"] == "Đã hỗ trợ 20 kg gạo"


async def test_unit_that_resolved_a_case_adds_no_files_and_loses_it_when_reopened(client, world):
    from tests.attachments.test_attachments import make_png

    png = {"file": ("anh.png", make_png(), "image/png")}
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await ok(client, world, "officer", code, "resolve", {"answer": "Đã hỗ trợ 20 kg gạo"})
    # Its answer stands: the unit reads it, but no longer acts on the case.
    assert (await get(client, world, code, who="officer"))["status"] == "resolved"
    r = await client.post(f"{API}/{code}/attachments", files=png, headers=world.auth("officer"))
    assert_problem(r, 404)

    await ok(client, world, "operator", code, "reopen", {"reason": "Người dân chưa nhận được"})
    # Reopened: the answer no longer stands, and the case is not the unit's until forwarded.
    for path in (f"{API}/{code}", f"{API}/{code}/events"):
        assert_problem(await client.get(path, headers=world.auth("officer")), 404)
    assert code not in await _list_codes(client, world, "officer")
    await forward(client, world, code, "ward_a")
    assert (await get(client, world, code, who="officer"))["status"] == "forwarded"
