"""The FHIR Flag of a warning sign: its signs in words, active while the patient is followed,
inactive with the end of the follow-up as its period's end once it ended."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def _flag(client, world, patient):
    r = await client.get(f"{API}/patients/{patient['id']}/fhir", headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    Bundle.model_validate(r.json())
    (flag,) = [e["resource"] for e in r.json()["entry"] if e["resource"]["resourceType"] == "Flag"]
    return flag


async def test_the_flag_names_the_signs_and_ends_with_the_follow_up(client, world):
    await doctor_with_profile(client, world)
    patient = await register(
        client, world, phone="0903229201", symptoms=["cyanosis"], spo2=98, respiratory_rate=16
    )
    flag = await _flag(client, world, patient)
    assert flag["status"] == "active" and "end" not in flag["period"]
    assert "tím tái" in flag["code"]["text"] and "cyanosis" not in flag["code"]["text"]
    url = f"{API}/patients/{patient['id']}/end"
    r = await client.post(url, json={"reason": "died"}, headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    flag = await _flag(client, world, patient)
    assert flag["status"] == "inactive"
    assert flag["period"]["end"] == r.json()["ended_at"]
