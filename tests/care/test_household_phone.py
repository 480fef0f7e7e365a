"""Registering by phone: the number's contact is the person registered, so the name must be
typed when the contact has one; the number alone never answers with the name on record."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, patient_body

pytestmark = pytest.mark.anyio


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
