"""The urgent case a warning sign opens: its medical text and the patient's home are read
only by those in charge of it (the operator holding it, the 115 unit it is forwarded to,
supervisors and administrators), on every read path of cases; each full read is logged.
Every other operator sees a neutral line and no address. Other cases are unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from hotline.auth.service import create_user
from hotline.contacts.models import PersonalDataRead
from tests.care.helpers import check_in, doctor_with_profile, officer_115, register
from tests.conftest import PASSWORD, new_case_body

pytestmark = pytest.mark.anyio

NEUTRAL = "Ca cấp cứu từ mạng lưới bác sĩ — chi tiết y tế chỉ người phụ trách xem được"
HOME = "Số 12 ngõ 34 phố Đội Cấn"
MEDICAL = ("SpO2 93%", "nhịp thở 26/phút", "NEWS2", "thở nhanh", "40–49 tuổi", "Người bệnh F0")


async def _urgent_case(client: Any, world: Any) -> tuple[str, dict[str, Any]]:
    await doctor_with_profile(client, world)
    patient = await register(client, world, address=HOME)
    done = await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26, pulse=100)
    return done["case_code"], patient


async def _second_operator(app: Any, client: Any) -> dict[str, str]:
    async with app.state.hotline.unit_of_work() as session:
        await create_user(session, username="trucban2", password=PASSWORD, role="operator")
    r = await client.post("/api/v1/auth/token", data={"username": "trucban2", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _reads(app: Any, case_code: str) -> list[tuple[str, str]]:
    """(reader's username, purpose) of the logged reads through this case."""
    from hotline.auth.models import User
    from hotline.cases.models import Case

    async with app.state.hotline.unit_of_work() as session:
        rows = await session.execute(
            select(User.username, PersonalDataRead.purpose)
            .join(User, User.id == PersonalDataRead.user_id)
            .join(Case, Case.id == PersonalDataRead.case_id)
            .where(Case.code == case_code)
        )
        return [(u, p) for u, p in rows.all()]


def _hidden(text: str) -> None:
    for secret in (*MEDICAL, HOME):
        assert secret not in text, secret


async def test_an_uninvolved_operator_reads_the_neutral_line_on_every_api_path(app, client, world):
    code, _ = await _urgent_case(client, world)
    operator = world.auth("operator")
    detail = await client.get(f"/api/v1/cases/{code}", headers=operator)
    assert detail.status_code == 200, detail.text
    assert detail.json()["description"] == NEUTRAL
    assert detail.json()["address"] == ""
    _hidden(detail.text)
    listed = await client.get("/api/v1/cases", headers=operator)
    row = next(c for c in listed.json()["items"] if c["code"] == code)
    assert row["description"] == NEUTRAL and row["address"] == "" and row["lat"] is None
    _hidden(listed.text)
    # Search matches nothing of the hidden text, on either engine.
    for q in ("SpO2", "nhịp thở", "NEWS2", "Đội Cấn"):
        found = await client.get("/api/v1/cases", params={"q": q}, headers=operator)
        assert found.status_code == 200, found.text
        assert code not in found.text, q
    # Similar cases of a report typed with the same words show the neutral line only.
    similar = await client.post(
        "/api/v1/cases/duplicates/suggest",
        json={"text": "Dấu hiệu cảnh báo: thở nhanh, SpO2 thấp. SpO2 93%", "ward_code": "00004"},
        headers=operator,
    )
    assert similar.status_code == 200, similar.text
    _hidden(similar.text)
    assert ("operator", "care_case") not in await _reads(app, code)
    await _an_ordinary_case_is_unchanged(app, client, world)


async def _an_ordinary_case_is_unchanged(app: Any, client: Any, world: Any) -> None:
    """A case the hotline opened, with the same words, reads and searches as before."""
    body = new_case_body(description="Cần hỗ trợ SpO2 kế cho ông bà", address="Số 5 phố Huế")
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("supervisor"))
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    operator = world.auth("operator")
    detail = await client.get(f"/api/v1/cases/{code}", headers=operator)
    assert detail.json()["description"] == body["description"]
    assert detail.json()["address"] == "Số 5 phố Huế"
    found = await client.get("/api/v1/cases", params={"q": "SpO2"}, headers=operator)
    assert code in found.text and "Cần hỗ trợ SpO2" in found.text
    assert ("operator", "care_case") not in await _reads(app, code)


async def test_an_uninvolved_operator_reads_the_neutral_line_on_the_pages(
    app, client, world, signed_in
):
    code, _ = await _urgent_case(client, world)
    async with signed_in("operator") as c:
        console = await c.get("/console/cases", params={"view": "all"})
        assert console.status_code == 200 and code in console.text
        assert NEUTRAL in console.text
        _hidden(console.text)
        page = await c.get(f"/cases/{code}")
        assert page.status_code == 200
        assert NEUTRAL in page.text
        _hidden(page.text)
        # The dashboard (its duplicate clusters) is the supervisors': nothing of it here.
        _hidden((await c.get("/dashboard")).text)


async def test_the_115_officer_then_the_operator_holding_it_read_everything_logged(
    app, client, world, signed_in
):
    code, _ = await _urgent_case(client, world)
    unit = await officer_115(app, client)
    detail = await client.get(f"/api/v1/cases/{code}", headers=unit)
    assert detail.status_code == 200, detail.text
    assert "SpO2 93%" in detail.json()["description"] and detail.json()["address"] == HOME
    assert ("dieuphoi115", "care_case") in await _reads(app, code)
    # The unit returns it (no crew free): the hotline takes it back.
    r = await client.post(f"/api/v1/cases/{code}/return", json={"reason": "Hết xe"}, headers=unit)
    assert r.status_code == 200, r.text
    holder = await _second_operator(app, client)
    taken = await client.post(f"/api/v1/cases/{code}/take", headers=holder)
    assert taken.status_code == 200, taken.text
    assert "SpO2 93%" in taken.json()["description"]
    detail = await client.get(f"/api/v1/cases/{code}", headers=holder)
    assert "nhịp thở 26/phút" in detail.json()["description"]
    assert detail.json()["address"] == HOME
    assert ("trucban2", "care_case") in await _reads(app, code)
    found = await client.get("/api/v1/cases", params={"q": "SpO2"}, headers=holder)
    assert code in found.text
    async with signed_in("trucban2") as c:
        page = await c.get(f"/cases/{code}")
        assert "SpO2 93%" in page.text and HOME in page.text
        console = await c.get("/console/cases", params={"view": "mine"})
        assert "SpO2 93%" in console.text
    # Everyone else on the floor still reads the neutral line.
    other = await client.get(f"/api/v1/cases/{code}", headers=world.auth("operator"))
    assert other.json()["description"] == NEUTRAL


async def test_supervisors_read_everything_logged(app, client, world, signed_in):
    code, _ = await _urgent_case(client, world)
    detail = await client.get(f"/api/v1/cases/{code}", headers=world.auth("supervisor"))
    assert "SpO2 93%" in detail.json()["description"] and detail.json()["address"] == HOME
    assert ("supervisor", "care_case") in await _reads(app, code)
    found = await client.get("/api/v1/cases", params={"q": "SpO2"}, headers=world.auth("admin"))
    assert code in found.text
    async with signed_in("supervisor") as c:
        page = await c.get(f"/cases/{code}")
        assert "SpO2 93%" in page.text
