"""The FHIR export once home care is over: a patient admitted to a facility or who died still
has COVID-19 (not `resolved`), the hospital stay is an inpatient Encounter, a death is on the
Patient; only a recovery resolves the Condition."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def _bundle(client: Any, world: Any, patient_id: int) -> dict[str, list[dict[str, Any]]]:
    r = await client.get(f"{API}/patients/{patient_id}/fhir", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    Bundle.model_validate(r.json())
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in r.json()["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def _clinical_status(bundle: dict[str, list[dict[str, Any]]]) -> str:
    [condition] = bundle["Condition"]
    return str(condition["clinicalStatus"]["coding"][0]["code"])


async def _end(client: Any, world: Any, patient_id: int, reason: str) -> dict[str, Any]:
    r = await client.post(
        f"{API}/patients/{patient_id}/end", json={"reason": reason}, headers=world.auth("doctor")
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_an_admitted_patient_still_has_covid_and_an_inpatient_stay(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/facilities",
        json={"unit_id": world.units["ward_a"], "name": "Bệnh viện dã chiến số 1",
              "oxygen_beds_total": 5, "oxygen_beds_free": 5},
        headers=world.auth("admin"),
    )  # fmt: skip
    r = await client.post(
        f"{API}/patients/{patient['id']}/admissions",
        json={"facility_id": r.json()["id"], "bed_kind": "oxygen"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201, r.text
    for status in ("accepted", "admitted"):
        answer = await client.post(
            f"{API}/admissions/{r.json()['id']}",
            json={"status": status},
            headers=world.auth("officer"),
        )
        assert answer.status_code == 200, answer.text
    bundle = await _bundle(client, world, patient["id"])
    assert _clinical_status(bundle) == "active"
    [stay] = [e for e in bundle["Encounter"] if e["class"]["code"] == "IMP"]
    assert stay["status"] == "in-progress"
    assert stay["serviceProvider"]["display"] == "Bệnh viện dã chiến số 1"
    assert stay["period"]["start"] == answer.json()["updated_at"]
    assert stay["subject"] == bundle["Condition"][0]["subject"]
    # Recovered later: the COVID-19 resolved and the stay as the record knows it is over.
    ended = await _end(client, world, patient["id"], "recovered")
    bundle = await _bundle(client, world, patient["id"])
    assert _clinical_status(bundle) == "resolved"
    assert bundle["Condition"][0]["abatementDateTime"] == ended["ended_at"]
    [stay] = [e for e in bundle["Encounter"] if e["class"]["code"] == "IMP"]
    assert stay["status"] == "finished" and stay["period"]["end"] == ended["ended_at"]


async def test_only_a_recovery_resolves_covid_and_a_death_is_on_the_patient(client, world):
    await doctor_with_profile(client, world)
    outcomes = {}
    for n, reason in enumerate(("recovered", "died", "hospitalised", "moved", "other")):
        patient = await register(client, world, phone=f"090300010{n}")
        ended = await _end(client, world, patient["id"], reason)
        bundle = await _bundle(client, world, patient["id"])
        [person] = bundle["Patient"]
        outcomes[reason] = (_clinical_status(bundle), person.get("deceasedBoolean"))
        if reason == "recovered":
            assert bundle["Condition"][0]["abatementDateTime"] == ended["ended_at"]
        else:
            assert "abatementDateTime" not in bundle["Condition"][0]
    assert outcomes == {
        "recovered": ("resolved", None),
        "died": ("active", True),
        "hospitalised": ("active", None),
        "moved": ("active", None),
        "other": ("active", None),
    }
