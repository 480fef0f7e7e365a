"""A household shares a phone: registering one member under a number another member's
contact holds registers that person under their own name, never under the other's, and the
other can still be registered."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, patient_body, register

pytestmark = pytest.mark.anyio


async def test_a_child_on_the_mothers_phone_is_registered_under_the_childs_name(client, world):
    await doctor_with_profile(client, world)
    auth = world.auth("supervisor")
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Nguyễn Thị Lan", "phones": ["0912345678"]},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    mother_id = r.json()["id"]
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone="0912345678")
    assert child["name"] == "Nguyễn Văn Bé"
    assert child["contact_id"] != mother_id
    assert "Nguyễn Thị Lan" not in str(child)
    # The mother, typed without her diacritics, is the number's contact and is registered too.
    mother = await register(client, world, name="nguyen thi  LAN", age=35, phone="0912345678")
    assert mother["contact_id"] == mother_id and mother["name"] == "Nguyễn Thị Lan"
    # The mother is followed once: registering her again is refused.
    again = patient_body(name="Nguyễn Thị Lan", age=35, phone="0912345678")
    r = await client.post(f"{API}/patients", json=again, headers=auth)
    assert r.status_code == 409, r.text


async def test_a_known_number_without_a_name_does_not_answer_the_name_on_record(client, world):
    await doctor_with_profile(client, world)
    auth = world.auth("doctor")
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Phạm Thị Hoa", "phones": ["0912345679"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    body = patient_body(name="", phone="0912345679")
    r = await client.post(f"{API}/patients", json=body, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "name", r.text
    assert "Phạm Thị Hoa" not in r.text
