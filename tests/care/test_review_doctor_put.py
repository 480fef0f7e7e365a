"""PUT /care/doctors/{id}: the answer is the profile as saved (patients handed over counted),
and a field left out keeps its value."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def test_a_put_answers_the_fresh_profile_and_keeps_omitted_fields(client, world):
    uid = await doctor_with_profile(
        client, world, capacity=10, specialty="Nội khoa", groups=("proactive", "consult")
    )
    await register(client, world, phone="0903229301")
    url = f"{API}/doctors/{uid}"
    sup = world.auth("supervisor")
    before = (await client.get(f"{API}/doctors", headers=sup)).json()
    (mine,) = [d for d in before if d["user_id"] == uid]
    assert mine["patient_count"] == 1
    # Deactivated: the patient is handed over (nobody else: waiting) and the answer says so.
    r = await client.put(url, json={"years_experience": 12, "active": False}, headers=sup)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["patient_count"] == 0 and saved["active"] is False
    # Left out: kept, not reset to the defaults.
    assert saved["capacity"] == 10 and saved["specialty"] == "Nội khoa"
    assert saved["groups"] == ["consult", "proactive"]
    assert saved["availability"] == mine["availability"]
    r = await client.put(url, json={"years_experience": 13}, headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["capacity"] == 10
    listed = (await client.get(f"{API}/doctors", headers=sup)).json()
    assert [d for d in listed if d["user_id"] == uid] == [r.json()]
