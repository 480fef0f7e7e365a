"""Admission requests through the API: only for a patient followed at home, one active at a
time, a bed taken once when the facility accepts, the doctor's place freed once, each read
logged."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.care.models import Admission, AdmissionStatus
from hotline.contacts.models import PersonalDataRead
from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def _facility(
    client: Any, world: Any, name: str = "Bệnh viện dã chiến số 1", **beds: int
) -> int:
    r = await client.post(
        f"{API}/facilities",
        json={"unit_id": world.units["ward_a"], "name": name, **beds},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _request(
    client: Any, world: Any, patient_id: int, facility_id: int, kind: str = "oxygen"
) -> Any:
    return client.post(
        f"{API}/patients/{patient_id}/admissions",
        json={"facility_id": facility_id, "bed_kind": kind},
        headers=world.auth("doctor"),
    )


async def _requested(client: Any, world: Any, patient_id: int, facility_id: int) -> int:
    r = await _request(client, world, patient_id, facility_id)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _answer(client: Any, world: Any, admission_id: int, status: str, who: str = "officer") -> Any:
    return client.post(
        f"{API}/admissions/{admission_id}", json={"status": status}, headers=world.auth(who)
    )


async def _free(client: Any, world: Any, facility_id: int, kind: str = "oxygen") -> int:
    found = (await client.get(f"{API}/facilities", headers=world.auth("admin"))).json()
    return int(next(f for f in found if f["id"] == facility_id)["beds"][kind]["free"])


async def _places_taken(client: Any, world: Any, doctor: int) -> int:
    found = (await client.get(f"{API}/doctors", headers=world.auth("supervisor"))).json()
    return int(next(d for d in found if d["user_id"] == doctor)["patient_count"])


async def _state(client: Any, world: Any, patient_id: int) -> str:
    r = await client.get(f"{API}/patients/{patient_id}", headers=world.auth("supervisor"))
    return str(r.json()["state"])


async def _statuses(client: Any, world: Any, patient_id: int) -> list[str]:
    r = await client.get(f"{API}/patients/{patient_id}/admissions", headers=world.auth("doctor"))
    return [a["status"] for a in r.json()]


async def test_a_patient_whose_follow_up_ended_cannot_be_requested_for_admission(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    fid = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=5)
    r = await client.post(
        f"{API}/patients/{patient['id']}/end", json={"reason": "died"}, headers=world.auth("doctor")
    )
    assert r.status_code == 200, r.text
    r = await _request(client, world, patient["id"], fid)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "state" and "Kết thúc theo dõi" in r.json()["detail"]
    assert await _statuses(client, world, patient["id"]) == []


async def test_an_admission_answered_after_the_follow_up_ended_leaves_the_patient_ended(
    client, world
):
    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000041")
    other = await register(client, world, phone="0903000042")
    assert await _places_taken(client, world, doctor) == 2
    fid = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=1)
    aid = await _requested(client, world, patient["id"], fid)
    assert (await _answer(client, world, aid, "accepted")).status_code == 200
    assert await _free(client, world, fid) == 0
    r = await client.post(
        f"{API}/patients/{patient['id']}/end",
        json={"reason": "recovered"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 200, r.text
    assert await _places_taken(client, world, doctor) == 1
    # The request the follow-up left behind is withdrawn and its bed given back.
    assert await _statuses(client, world, patient["id"]) == ["cancelled"]
    assert await _free(client, world, fid) == 1
    r = await _answer(client, world, aid, "admitted")
    assert r.status_code == 409 and r.json()["field"] == "status"
    assert await _state(client, world, patient["id"]) == "ended"
    # The doctor's place was freed once: the other patient still holds theirs.
    assert await _places_taken(client, world, doctor) == 1
    assert await _state(client, world, other["id"]) == "active"


async def test_a_patient_has_one_active_admission_request_at_a_time(client, world):
    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000051")
    await register(client, world, phone="0903000052")
    first = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=5)
    second = await _facility(
        client, world, "Bệnh viện dã chiến số 2", oxygen_beds_total=5, oxygen_beds_free=5
    )
    aid = await _requested(client, world, patient["id"], first)
    r = await _request(client, world, patient["id"], second)
    assert r.status_code == 409 and r.json()["field"] == "patient_id"
    assert str(aid) in r.json()["detail"]
    assert (await _answer(client, world, aid, "accepted")).status_code == 200
    assert (await _request(client, world, patient["id"], second)).status_code == 409
    assert (await _answer(client, world, aid, "cancelled", who="doctor")).status_code == 200
    again = await _requested(client, world, patient["id"], second)
    for status in ("accepted", "admitted"):
        assert (await _answer(client, world, again, status)).status_code == 200
    assert await _places_taken(client, world, doctor) == 1
    # Admitted: no longer at home, so no further request, and the place stays freed once.
    r = await _request(client, world, patient["id"], first)
    assert r.status_code == 409 and r.json()["field"] == "state"
    assert await _statuses(client, world, patient["id"]) == ["admitted", "cancelled"]
    assert await _places_taken(client, world, doctor) == 1


async def test_two_admission_requests_at_once_leave_one_active(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    facilities = [
        await _facility(
            client, world, f"Bệnh viện dã chiến số {n}", oxygen_beds_total=5, oxygen_beds_free=5
        )
        for n in (1, 2, 3)
    ]
    answers = await asyncio.gather(
        *[_request(client, world, patient["id"], fid) for fid in facilities]
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409]
    async with app.state.hotline.unit_of_work() as session:
        active = await session.scalar(
            select(func.count())
            .select_from(Admission)
            .where(
                Admission.patient_id == patient["id"],
                Admission.status.in_((AdmissionStatus.REQUESTED, AdmissionStatus.ACCEPTED)),
            )
        )
    assert active == 1


async def test_an_accept_without_a_free_bed_of_the_kind_is_refused_naming_it(client, world):
    await doctor_with_profile(client, world)
    one = await register(client, world, phone="0903000061")
    two = await register(client, world, phone="0903000062")
    fid = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=1)
    first = await _requested(client, world, one["id"], fid)
    second = await _requested(client, world, two["id"], fid)
    assert (await _answer(client, world, first, "accepted")).status_code == 200
    assert await _free(client, world, fid) == 0
    r = await _answer(client, world, second, "accepted")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "bed_kind" and "thở oxy" in r.json()["detail"]
    assert await _statuses(client, world, two["id"]) == ["requested"]
    # Admitting takes no second bed: the one accepted was held for the patient.
    assert (await _answer(client, world, first, "admitted")).status_code == 200
    assert await _free(client, world, fid) == 0
    # A bed the unit frees goes to the waiting request; cancelling it gives the bed back.
    r = await client.patch(
        f"{API}/facilities/{fid}", json={"oxygen_beds_free": 1}, headers=world.auth("officer")
    )
    assert r.status_code == 200
    assert (await _answer(client, world, second, "accepted")).status_code == 200
    assert await _free(client, world, fid) == 0
    assert (await _answer(client, world, second, "cancelled", who="doctor")).status_code == 200
    assert await _free(client, world, fid) == 1


async def test_two_accepts_at_once_cannot_take_the_last_bed_twice(client, world):
    await doctor_with_profile(client, world)
    fid = await _facility(client, world, icu_beds_total=3, icu_beds_free=1)
    admissions = []
    for n in range(3):
        patient = await register(client, world, phone=f"090300007{n}")
        r = await _request(client, world, patient["id"], fid, kind="icu")
        assert r.status_code == 201, r.text
        admissions.append(r.json()["id"])
    answers = await asyncio.gather(*[_answer(client, world, a, "accepted") for a in admissions])
    assert sorted(r.status_code for r in answers) == [200, 409, 409]
    assert await _free(client, world, fid, "icu") == 0


async def test_ending_and_admitting_at_once_free_the_doctors_place_once(client, world):
    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000081")
    await register(client, world, phone="0903000082")
    fid = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=5)
    aid = await _requested(client, world, patient["id"], fid)
    assert (await _answer(client, world, aid, "accepted")).status_code == 200
    end: Any = client.post(
        f"{API}/patients/{patient['id']}/end",
        json={"reason": "hospitalised"},
        headers=world.auth("doctor"),
    )
    answers: list[httpx.Response] = await asyncio.gather(
        end, _answer(client, world, aid, "admitted")
    )
    assert answers[0].status_code == 200, answers[0].text
    assert await _state(client, world, patient["id"]) == "ended"
    assert await _places_taken(client, world, doctor) == 1


async def test_reading_admissions_is_a_logged_read_of_each_patient(app, client, world):
    await doctor_with_profile(client, world)
    one = await register(client, world, phone="0903000091")
    two = await register(client, world, phone="0903000092")
    fid = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=5)
    await _requested(client, world, one["id"], fid)
    await _requested(client, world, two["id"], fid)

    async def reads(who: str) -> list[tuple[str, int | None]]:
        uid = await user_id(client, world, who)
        async with app.state.hotline.unit_of_work() as session:
            rows = await session.scalars(
                select(PersonalDataRead)
                .where(PersonalDataRead.user_id == uid)
                .order_by(PersonalDataRead.id)
            )
            return [(r.purpose, r.contact_id) for r in rows.all()]

    before = len(await reads("doctor"))
    r = await client.get(f"{API}/patients/{one['id']}/admissions", headers=world.auth("doctor"))
    assert r.status_code == 200
    assert (await reads("doctor"))[before:] == [("care_admissions", one["contact_id"])]
    r = await client.get(f"{API}/facilities/{fid}/admissions", headers=world.auth("officer"))
    assert r.status_code == 200 and len(r.json()) == 2
    assert sorted(await reads("officer")) == sorted(
        [
            ("care_facility_admissions", one["contact_id"]),
            ("care_facility_admissions", two["contact_id"]),
        ]
    )
    # A refused read logs nothing.
    r = await client.get(f"{API}/facilities/{fid}/admissions", headers=world.auth("outsider"))
    assert r.status_code == 404 and await reads("outsider") == []


async def test_answering_an_admission_is_a_logged_read_of_its_patient(app, client, world):
    """The answer shows the unit the doctor's note on the patient: a read like the list's."""
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000093")
    fid = await _facility(client, world, oxygen_beds_total=5, oxygen_beds_free=5)
    aid = await _requested(client, world, patient["id"], fid)
    officer = await user_id(client, world, "officer")

    async def reads() -> list[tuple[str, int | None]]:
        async with app.state.hotline.unit_of_work() as session:
            rows = await session.scalars(
                select(PersonalDataRead)
                .where(PersonalDataRead.user_id == officer)
                .order_by(PersonalDataRead.id)
            )
            return [(r.purpose, r.contact_id) for r in rows.all()]

    r = await _answer(client, world, aid, "accepted")
    assert r.status_code == 200, r.text
    assert await reads() == [("care_admission_answer", patient["contact_id"])]
    # A refused answer (no such transition) logs nothing more.
    r = await _answer(client, world, aid, "requested")
    assert r.status_code in (409, 422)
    assert len(await reads()) == 1
