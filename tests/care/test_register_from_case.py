"""A proactive-care doctor registers a person from a case code they were given: the case
read through home care (permission checked, read logged), the cases list still closed to
them; an unknown code is refused naming `case_code`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.contacts.models import PersonalDataRead
from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, patient_body
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


async def test_a_doctor_registers_from_a_case_code_and_the_read_is_logged(app, client, world):
    await doctor_with_profile(client, world)
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "Trần Văn Nam", "phone": "0912000111"}),
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    auth = world.auth("doctor")
    # The case itself stays closed to the doctor.
    assert (await client.get(f"/api/v1/cases/{code}", headers=auth)).status_code == 404
    body = patient_body(case_code=code, phone=None, name="")
    r = await client.post(f"{API}/patients", json=body, headers=auth)
    assert r.status_code == 201, r.text
    patient = r.json()
    assert patient["name"] == "Trần Văn Nam" and patient["case_code"] == code
    uid = await user_id(client, world, "doctor")
    async with app.state.hotline.unit_of_work() as session:
        purposes = set(
            (
                await session.scalars(
                    select(PersonalDataRead.purpose).where(
                        PersonalDataRead.user_id == uid,
                        PersonalDataRead.contact_id == patient["contact_id"],
                    )
                )
            ).all()
        )
    assert "care_register_case" in purposes


async def test_an_unknown_case_code_is_refused_naming_case_code(client, world):
    await doctor_with_profile(client, world)
    for code in ("HN-2021-0000000", "not a code"):
        body = patient_body(case_code=code)
        r = await client.post(f"{API}/patients", json=body, headers=world.auth("doctor"))
        assert r.status_code == 404, r.text
        assert r.json()["field"] == "case_code", r.text
