"""Merging contact cards when one of them is a patient followed by the doctor network: an
operator (who sees nothing of home care) is refused with a line that says nothing of care;
the care coordinators merge, and the merge goes on the patient's trail of changes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def _card(client: Any, world: Any, name: str, phone: str) -> int:
    r = await client.post(
        "/api/v1/contacts", json={"name": name, "phones": [phone]}, headers=world.auth("operator")
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _neutral_refusal(r: Any) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "merge_id"
    detail = r.json()["detail"].lower()
    for word in ("bác sĩ", "theo dõi", "chăm sóc", "người bệnh", "care"):
        assert word not in detail, detail


async def test_an_operator_learns_nothing_of_care_from_a_refused_merge(client, world):
    await doctor_with_profile(client, world)
    lan = await register(client, world, name="Nguyễn Thị Lan", phone="0912000001")
    hoa = await register(client, world, name="Trần Thị Hoa", phone="0912000002")
    stranger = await _card(client, world, "Phạm Văn Tư", "0912000003")
    operator = world.auth("operator")
    # Both followed, or one: the same neutral refusal, and nothing moves.
    for keep, gone in (
        (lan["contact_id"], hoa["contact_id"]),
        (stranger, hoa["contact_id"]),
        (hoa["contact_id"], stranger),
    ):
        r = await client.post(
            f"/api/v1/contacts/{keep}/merge", json={"merge_id": gone}, headers=operator
        )
        _neutral_refusal(r)
    patient = (await client.get(f"{API}/patients/{hoa['id']}", headers=world.auth("doctor"))).json()
    assert patient["contact_id"] == hoa["contact_id"] and patient["name"] == "Trần Thị Hoa"
    # Cards with no followed patient merge as before.
    other = await _card(client, world, "Phạm Văn Tư", "0912000004")
    r = await client.post(
        f"/api/v1/contacts/{stranger}/merge", json={"merge_id": other}, headers=operator
    )
    assert r.status_code == 200, r.text


async def test_a_coordinators_merge_of_a_followed_patient_is_on_their_trail(client, world):
    await doctor_with_profile(client, world)
    hoa = await register(client, world, name="Trần Thị Hoa", phone="0912000002")
    keep = await _card(client, world, "Trần Hoa", "0912000005")
    r = await client.post(
        f"/api/v1/contacts/{keep}/merge",
        json={"merge_id": hoa["contact_id"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    changes = await client.get(
        f"{API}/patients/{hoa['id']}/changes", headers=world.auth("supervisor")
    )
    assert changes.status_code == 200, changes.text
    (merge,) = [c for c in changes.json() if c["action"] == "merge"]
    assert merge["before"] == {"contact_id": hoa["contact_id"], "name": "Trần Thị Hoa"}
    assert merge["after"] == {"contact_id": keep, "name": "Trần Hoa"}
    assert merge["user_id"] is not None
