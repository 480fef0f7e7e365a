"""A doctor's patients when the doctor stops following patients at home (deactivated, or out
of the proactive-care group), and the rules a coordinator's reassignment keeps: an active
proactive-care doctor with room."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, new_doctor, profile, register
from tests.conftest import live_events

pytestmark = pytest.mark.anyio


async def _other_doctor(app: Any, client: Any, world: Any, username: str, **extra: Any) -> int:
    auth = await new_doctor(app, client, username)
    uid = int((await client.get("/api/v1/users/me", headers=auth)).json()["id"])
    r = await profile(client, world, uid, **extra)
    assert r.status_code == 201, r.text
    return uid


async def _doctor_of(client: Any, world: Any, patient: dict[str, Any]) -> int | None:
    r = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    return r.json()["doctor_id"]


async def _counts(client: Any, world: Any) -> dict[int, int]:
    r = await client.get(f"{API}/doctors", headers=world.auth("supervisor"))
    return {d["user_id"]: d["patient_count"] for d in r.json()}


async def _put(client: Any, world: Any, uid: int, **body: Any) -> Any:
    data = {"years_experience": 10, "groups": ["proactive"], **body}
    return await client.put(f"{API}/doctors/{uid}", json=data, headers=world.auth("supervisor"))


async def test_a_deactivated_doctors_patients_go_to_the_other_doctors_balancing_load(
    app, client, world
):
    leaving = await doctor_with_profile(client, world, capacity=10)
    patients = [
        await register(client, world, phone=f"090300010{i}", doctor_id=leaving) for i in range(4)
    ]
    # Two doctors with room: one already has a patient of their own.
    busy = await _other_doctor(app, client, world, "bacsi2", capacity=10)
    free = await _other_doctor(app, client, world, "bacsi3", capacity=10)
    own = await register(client, world, phone="0903000199", doctor_id=busy)
    async with live_events(app) as queue:
        r = await _put(client, world, leaving, active=False, capacity=10)
        assert r.status_code == 200, r.text
        await app.state.hotline.feed.sync()
        events = []
        while not queue.empty():
            event = queue.get_nowait()
            if event.kind == "care.assigned":
                events.append(event)
    doctors = [await _doctor_of(client, world, p) for p in patients]
    assert leaving not in doctors
    # Balanced: each to the doctor with the fewest patients (ties: the lowest user id).
    assert (doctors.count(busy), doctors.count(free)) == (2, 2)
    counts = await _counts(client, world)
    assert (counts[leaving], counts[busy], counts[free]) == (0, 3, 2)
    assert await _doctor_of(client, world, own) == busy
    # A live event to each new doctor, naming the one they came from; on the trail.
    assert sorted((e.data["patient_id"], e.data["from_doctor_id"]) for e in events) == sorted(
        (p["id"], leaving) for p in patients
    )
    assert {e.data["patient_id"]: e.data["doctor_id"] for e in events} == {
        p["id"]: d for p, d in zip(patients, doctors, strict=True)
    }
    r = await client.get(
        f"{API}/patients/{patients[0]['id']}/changes", headers=world.auth("supervisor")
    )
    newest = r.json()[0]
    assert newest["action"] == "reassign"
    assert (newest["before"], newest["after"]) == (
        {"doctor_id": leaving},
        {"doctor_id": doctors[0]},
    )
    assert newest["user_id"] == await user_id(client, world, "supervisor")


async def test_a_doctor_leaving_the_proactive_group_with_nobody_free_leaves_patients_waiting(
    app, client, world
):
    leaving = await doctor_with_profile(client, world, years=10, groups=("proactive", "consult"))
    full = await _other_doctor(app, client, world, "bacsi2", capacity=1)
    theirs = await register(client, world, phone="0903000201", doctor_id=full)
    mine = await register(client, world, phone="0903000202", doctor_id=leaving)
    async with live_events(app) as queue:
        r = await _put(client, world, leaving, groups=["consult"])
        assert r.status_code == 200, r.text
        await app.state.hotline.feed.sync()
        events = []
        while not queue.empty():
            event = queue.get_nowait()
            if event.kind == "care.assigned":
                events.append(event)
    assert await _doctor_of(client, world, mine) is None
    assert await _doctor_of(client, world, theirs) == full
    assert (await _counts(client, world))[leaving] == 0
    # The coordinator's list of patients waiting for a doctor, and a live event for them.
    r = await client.get(
        f"{API}/patients", params={"unassigned": "true", "state": "active"},
        headers=world.auth("supervisor"),
    )  # fmt: skip
    assert [p["id"] for p in r.json()] == [mine["id"]]
    assert [
        (e.data["patient_id"], e.data["doctor_id"], e.data["from_doctor_id"]) for e in events
    ] == [(mine["id"], None, leaving)]
    # The former doctor no longer sees the patient.
    r = await client.get(f"{API}/patients/{mine['id']}", headers=world.auth("doctor"))
    assert r.status_code == 404
    # A doctor with room later takes them.
    r = await _put(client, world, full, capacity=2)
    assert r.status_code == 200, r.text
    assert await _doctor_of(client, world, mine) == full


async def test_reassigning_to_a_consult_only_or_inactive_doctor_is_refused(app, client, world):
    doctor = await doctor_with_profile(client, world)
    consult = await _other_doctor(app, client, world, "bacsi2", groups=("consult",))
    resting = await _other_doctor(app, client, world, "bacsi3", active=False)
    patient = await register(client, world, doctor_id=doctor)
    url = f"{API}/patients/{patient['id']}/reassign"
    for target in (consult, resting):
        r = await client.post(url, json={"doctor_id": target}, headers=world.auth("supervisor"))
        assert r.status_code == 422, r.text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["field"] == "doctor_id"
        assert "chăm sóc chủ động" in problem["detail"]
    assert await _doctor_of(client, world, patient) == doctor
    counts = await _counts(client, world)
    assert (counts[doctor], counts[consult], counts[resting]) == (1, 0, 0)


async def test_reassigning_to_a_doctor_at_capacity_is_refused(app, client, world):
    doctor = await doctor_with_profile(client, world)
    full = await _other_doctor(app, client, world, "bacsi2", capacity=1)
    await register(client, world, phone="0903000301", doctor_id=full)
    patient = await register(client, world, phone="0903000302", doctor_id=doctor)
    url = f"{API}/patients/{patient['id']}/reassign"
    r = await client.post(url, json={"doctor_id": full}, headers=world.auth("supervisor"))
    assert r.status_code == 409, r.text
    assert r.json()["field"] == "doctor_id" and "1/1" in r.json()["detail"]
    assert await _doctor_of(client, world, patient) == doctor
    assert (await _counts(client, world))[full] == 1
    # Given more room, the same reassignment goes through.
    assert (await _put(client, world, full, capacity=2)).status_code == 200
    r = await client.post(url, json={"doctor_id": full}, headers=world.auth("supervisor"))
    assert r.status_code == 200 and r.json()["doctor_id"] == full


async def test_the_reassign_form_offers_proactive_doctors_and_names_each_refusal(
    app, client, world, signed_in
):
    from tests.auth.test_auth import _csrf_of
    from tests.care.test_followup_pages import field_error, section, trail_rows

    doctor = await doctor_with_profile(client, world)
    consult = await _other_doctor(app, client, world, "bacsi2", groups=("consult",))
    full = await _other_doctor(app, client, world, "bacsi3", capacity=1)
    roomy = await _other_doctor(app, client, world, "bacsi4")
    await register(client, world, phone="0903000401", doctor_id=full)
    patient = await register(client, world, phone="0903000402", doctor_id=doctor)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("supervisor") as c:
        page = await c.get(url)
        form = section(page.text, 'id="reassign-form"', "</form>")
        offered = re.findall(r'<option value="(\d+)"( disabled)?>([^<]*)</option>', form)
        assert [(int(i), bool(off)) for i, off, _label in offered] == [(full, True), (roomy, False)]
        assert "1/1 người bệnh, đã đủ" in offered[0][2]
        csrf = _csrf_of(page.text)
        for target, status in ((consult, 422), (full, 409)):
            r = await c.post(f"{url}/reassign", data={"csrf": csrf, "doctor_id": str(target)})
            assert r.status_code == status, r.text
            assert "bác sĩ khác" in (field_error(r.text, "reassign_doctor_id") or ""), r.text
        # The supervisor deactivates the patient's doctor: nobody else has room but bacsi4.
        r = await client.put(
            f"{API}/doctors/{doctor}",
            json={"years_experience": 10, "groups": ["proactive"], "active": False},
            headers=world.auth("supervisor"),
        )
        assert r.status_code == 200, r.text
        page = await c.get(url)
        assert trail_rows(page.text) == ["reassign"]
        assert "bacsi4" in section(page.text, 'id="trail"', "</table>")


async def test_a_doctor_whose_account_is_disabled_hands_patients_over_at_the_next_sweep(
    app, client, world
):
    from hotline.care.schedule import sweep_checkins

    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000501", doctor_id=doctor)
    r = await client.patch(
        f"/api/v1/users/{doctor}", json={"active": False}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    # Nobody else yet: a new patient is not given to the disabled account.
    later = await register(client, world, phone="0903000502")
    assert later["doctor_id"] is None
    other = await _other_doctor(app, client, world, "bacsi2")
    assert await _doctor_of(client, world, later) == other
    async with app.state.hotline.unit_of_work() as session:
        await sweep_checkins(session)
    assert await _doctor_of(client, world, patient) == other
    r = await client.get(
        f"{API}/patients/{patient['id']}/changes", headers=world.auth("supervisor")
    )
    newest = r.json()[0]
    assert (newest["action"], newest["user_id"], newest["after"]) == (
        "reassign",
        None,
        {"doctor_id": other},
    )
    assert (await _counts(client, world))[doctor] == 0
