"""Eligibility follows the warning signs: the symptoms of the latest check-in that recorded
symptoms (a check-in that did not ask keeps them), and every check-in assesses it again."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio

WELL = {"spo2": 98, "respiratory_rate": 16}


async def test_a_check_in_without_symptoms_keeps_the_warning_symptom(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903229001", symptoms=["cyanosis"], **WELL)
    assert patient["eligible"] is False and patient["urgent_case_code"]
    url = f"{API}/patients/{patient['id']}"
    r = await client.post(f"{url}/checkins", json={"pulse": 80}, headers=world.auth("doctor"))
    assert r.status_code == 201, r.text
    r = await client.patch(url, json={"has_carer": True}, headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    assert r.json()["eligibility"]["decision"] == "not_eligible"
    assert r.json()["eligible"] is False
    # A check-in that asked and found none clears them.
    r = await client.post(
        f"{url}/checkins", json={**WELL, "pulse": 80, "symptoms": []}, headers=world.auth("doctor")
    )
    assert r.status_code == 201, r.text
    r = await client.get(url, headers=world.auth("doctor"))
    assert r.json()["eligibility"]["decision"] == "eligible", r.json()["eligibility"]


async def test_a_check_in_with_a_warning_sign_makes_the_patient_not_eligible(
    client, world, signed_in
):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903229002", **WELL)
    assert patient["eligible"] is True
    url = f"{API}/patients/{patient['id']}"
    r = await client.post(f"{url}/checkins", json={"spo2": 90}, headers=world.auth("doctor"))
    assert r.status_code == 201, r.text
    r = await client.get(url, headers=world.auth("doctor"))
    assert r.json()["eligible"] is False
    failed = [x["rule"] for x in r.json()["eligibility"]["reasons"] if x["ok"] is False]
    assert "warning_sign" in failed
    async with signed_in("doctor") as c:
        page = await c.get(f"/care/patients/{patient['id']}")
    assert page.status_code == 200, page.text
    shown = page.text[page.text.index('id="eligible"') :].split("</p>")[0]
    assert "Không đủ điều kiện" in shown, shown
