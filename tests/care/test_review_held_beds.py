"""A facility's bed count cannot give away a bed held for an accepted request not yet
admitted: free beds are at most the total less those held."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def test_a_held_bed_cannot_be_counted_free(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903229401")
    r = await client.post(
        f"{API}/facilities",
        json={
            "unit_id": world.units["ward_a"],
            "name": "Bệnh viện dã chiến số 9",
            "oxygen_beds_total": 1,
            "oxygen_beds_free": 1,
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    r = await client.post(
        f"{API}/patients/{patient['id']}/admissions",
        json={"facility_id": fid, "bed_kind": "oxygen"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/admissions/{r.json()['id']}",
        json={"status": "accepted"},
        headers=world.auth("officer"),
    )
    assert r.status_code == 200, r.text
    url = f"{API}/facilities/{fid}"
    r = await client.patch(url, json={"oxygen_beds_free": 1}, headers=world.auth("officer"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "oxygen_beds_free"
    # One more bed in all: that one may be free.
    r = await client.patch(
        url, json={"oxygen_beds_total": 2, "oxygen_beds_free": 1}, headers=world.auth("officer")
    )
    assert r.status_code == 200, r.text
    assert r.json()["beds"]["oxygen"] == {"total": 2, "free": 1}
