"""Case intake through POST /api/v1/cases."""

from __future__ import annotations

import pytest

from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


async def test_operator_creates_case_with_code_and_new_status(client, world):
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "new"
    assert len(body["code"]) == 9 and body["code"][4] == "-"
    got = await client.get(f"/api/v1/cases/{body['code']}", headers=world.auth("operator"))
    assert got.status_code == 200
    detail = got.json()
    assert detail["contact"]["phones"] == ["+84912345678"]
    assert detail["category"] == "ho_tro_kho_khan"


async def test_missing_token_is_401_problem(client, world):
    r = await client.post("/api/v1/cases", json=new_case_body())
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_simultaneous_first_reports_from_one_new_number_make_one_contact(app, client, world):
    """Ten requests from a number never seen before, all at once: every case gets the same
    contact and no contact is left behind without a phone."""
    import asyncio

    from sqlalchemy import func, select

    from hotline.contacts.models import Contact, ContactPhone

    body = new_case_body(contact={"name": "Trần Văn Bình", "phone": "0987 000 111"})
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
            for _ in range(10)
        )
    )
    assert [r.status_code for r in responses] == [201] * 10
    contact_ids = {r.json()["contact_id"] for r in responses}
    assert len(contact_ids) == 1 and None not in contact_ids
    async with app.state.hotline.sessionmaker() as s:
        owners = (
            await s.scalars(
                select(ContactPhone.contact_id).where(ContactPhone.e164 == "+84987000111")
            )
        ).all()
        contacts = await s.scalar(select(func.count()).select_from(Contact))
    assert owners == list(contact_ids)
    assert contacts == 1
