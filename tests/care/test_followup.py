"""A patient's follow-up after registration through the API: ended with a reason, edited
with a trail, reassigned; patients waiting for a doctor get one when a place frees."""

from __future__ import annotations

import pytest

from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, new_doctor, profile, register

pytestmark = pytest.mark.anyio


async def test_ending_a_follow_up_gives_the_place_to_the_patient_waiting_for_a_doctor(
    client, world
):
    doctor = await doctor_with_profile(client, world, capacity=1)
    first = await register(client, world, phone="0903000021")
    waiting = await register(client, world, phone="0903000022")
    assert (first["doctor_id"], waiting["doctor_id"]) == (doctor, None)
    # The coordinator's list of patients without a doctor.
    r = await client.get(
        f"{API}/patients", params={"unassigned": "true", "state": "active"},
        headers=world.auth("supervisor"),
    )  # fmt: skip
    assert [p["id"] for p in r.json()] == [waiting["id"]]
    url = f"{API}/patients/{first['id']}/end"
    r = await client.post(url, json={"reason": "cured"}, headers=world.auth("doctor"))
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = await client.post(url, json={"reason": "recovered"}, headers=world.auth("operator"))
    assert r.status_code == 404
    r = await client.post(
        url,
        json={"reason": "recovered", "note": "Test nhanh âm tính"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 200, r.text
    ended = r.json()
    assert (ended["state"], ended["end_reason"], ended["end_note"]) == (
        "ended",
        "recovered",
        "Test nhanh âm tính",
    )
    assert ended["ended_at"] is not None and ended["checkins_due"] == []
    r = await client.post(url, json={"reason": "recovered"}, headers=world.auth("doctor"))
    assert r.status_code == 409
    # The freed place went to the waiting patient.
    r = await client.get(f"{API}/worklist", headers=world.auth("doctor"))
    assert [p["id"] for p in r.json()] == [waiting["id"]]
    r = await client.get(f"{API}/patients/{waiting['id']}/changes", headers=world.auth("doctor"))
    assert [(c["action"], c["user_id"], c["after"]) for c in r.json()] == [
        ("assign", None, {"doctor_id": doctor})
    ]
    r = await client.get(f"{API}/patients/{first['id']}/changes", headers=world.auth("doctor"))
    assert r.json()[0]["action"] == "end" and r.json()[0]["after"]["reason"] == "recovered"


async def test_a_doctor_added_or_given_room_takes_the_waiting_patients(app, client, world):
    nobody = await register(client, world, phone="0903000031")
    assert nobody["doctor_id"] is None
    doctor = await doctor_with_profile(client, world, capacity=1)
    r = await client.get(f"{API}/patients/{nobody['id']}", headers=world.auth("doctor"))
    assert r.status_code == 200 and r.json()["doctor_id"] == doctor
    later = await register(client, world, phone="0903000032")
    assert later["doctor_id"] is None
    r = await client.put(
        f"{API}/doctors/{doctor}",
        json={"years_experience": 10, "groups": ["proactive"], "capacity": 2},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"{API}/patients/{later['id']}", headers=world.auth("doctor"))
    assert r.json()["doctor_id"] == doctor


async def test_edits_are_on_the_trail_and_a_coordinator_reassigns(app, client, world):
    doctor = await doctor_with_profile(client, world)
    other_auth = await new_doctor(app, client, "bacsi2")
    other = int((await client.get("/api/v1/users/me", headers=other_auth)).json()["id"])
    assert (await profile(client, world, other)).status_code == 201
    patient = await register(client, world, doctor_id=doctor)
    url = f"{API}/patients/{patient['id']}"
    r = await client.patch(url, json={"comorbidities": ["flu"]}, headers=world.auth("doctor"))
    assert r.status_code == 422 and r.json()["field"] == "comorbidities"
    r = await client.patch(
        url,
        json={"address": "Số 8 ngõ 2 Kim Mã", "comorbidities": ["hiv"], "phone": "0987 654 321"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["address"] == "Số 8 ngõ 2 Kim Mã" and r.json()["comorbidities"] == ["hiv"]
    assert "+84987654321" in r.json()["phones"]
    r = await client.patch(url, json={"address": "x"}, headers=world.auth("operator"))
    assert r.status_code == 404
    r = await client.get(f"{url}/changes", headers=world.auth("operator"))
    assert r.status_code == 404
    r = await client.get(f"{url}/changes", headers=world.auth("doctor"))
    [edit] = r.json()
    assert edit["action"] == "edit" and edit["user_id"] == await user_id(client, world, "doctor")
    assert edit["before"] == {"address": "Số 3 phố Đội Cấn", "comorbidities": []}
    assert edit["after"]["comorbidities"] == ["hiv"]
    assert edit["after"]["phone_added"] == "+84987654321"
    # Reassignment: coordinators only; the patient moves to the other doctor's list.
    body = {"doctor_id": other}
    r = await client.post(f"{url}/reassign", json=body, headers=world.auth("doctor"))
    assert r.status_code == 403
    r = await client.post(f"{url}/reassign", json=body, headers=world.auth("supervisor"))
    assert r.status_code == 200 and r.json()["doctor_id"] == other, r.text
    assert (await client.get(url, headers=world.auth("doctor"))).status_code == 404
    assert (await client.get(url, headers=other_auth)).status_code == 200
    doctors = await client.get(f"{API}/doctors", headers=world.auth("supervisor"))
    counts = {d["user_id"]: d["patient_count"] for d in doctors.json()}
    assert (counts[doctor], counts[other]) == (0, 1)
    r = await client.post(
        f"{url}/reassign", json={"doctor_id": 999999}, headers=world.auth("supervisor")
    )
    assert r.status_code == 422 and r.json()["field"] == "doctor_id"


async def test_an_ended_follow_up_takes_no_check_in_and_opens_no_urgent_case(client, world):
    """Signs recorded for a patient no longer followed at home (died, hospitalised...) must
    not send the 115 unit to their address."""
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000031")
    url = f"{API}/patients/{patient['id']}"
    r = await client.post(f"{url}/end", json={"reason": "died"}, headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{url}/checkins", json={"spo2": 88, "respiratory_rate": 30}, headers=world.auth("doctor")
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "state"
    assert "không còn theo dõi tại nhà" in r.json()["detail"]
    cases = await client.get(
        "/api/v1/cases", params={"category": "cap_cuu"}, headers=world.auth("supervisor")
    )
    assert cases.status_code == 200 and cases.json()["items"] == []
