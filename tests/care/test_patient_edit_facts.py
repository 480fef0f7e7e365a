"""A followed patient's age, vaccination, test and F0/F1 status are edited like the rest of
the record: checked as at registration, eligibility assessed again, on the trail; a field the
edit does not know is refused by name, never silently dropped."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio

WELL = {"spo2": 98, "respiratory_rate": 16}


async def test_age_doses_dates_test_and_status_are_edited_and_reassessed(client, world):
    await doctor_with_profile(client, world)
    patient = await register(
        client, world, status="F1", phone="0903555001", age=30, vaccine_doses=0, **WELL
    )
    url = f"{API}/patients/{patient['id']}"
    auth = world.auth("doctor")
    edit = {
        "status": "F0",
        "age": 60,
        "vaccine_doses": 1,
        "last_dose_date": "2021-08-05",
        "test_date": "2021-08-12",
        "test_type": "rapid_antigen",
    }
    r = await client.patch(url, json=edit, headers=auth)
    assert r.status_code == 200, r.text
    edited = r.json()
    for name, value in edit.items():
        assert edited[name] == value, name
    # An F0 of 60, one dose 7 days before the test: not eligible on 4038.
    assert edited["eligible"] is False
    (change,) = (await client.get(f"{url}/changes", headers=auth)).json()
    assert change["before"]["age"] == 30 and change["after"]["age"] == 60
    assert change["after"]["status"] == "F0" and change["after"]["test_date"] == "2021-08-12"
    assert change["after"]["eligibility"] == "not_eligible"


async def test_an_edit_is_checked_as_a_registration_is(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903555002")
    url = f"{API}/patients/{patient['id']}"
    auth = world.auth("doctor")
    for body, field in (
        ({"age": 200}, "age"),
        ({"vaccine_doses": -1}, "vaccine_doses"),
        ({"status": "F2"}, "status"),
        ({"test_type": "xquang"}, "test_type"),
        ({"last_dose_date": "2999-01-01"}, "last_dose_date"),
        ({"agee": 40}, "agee"),
    ):
        r = await client.patch(url, json=body, headers=auth)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text, (body, r.text)
    assert (await client.get(url, headers=auth)).json()["age"] == patient["age"]
