"""Merging two contact cards keeps "one followed patient per person": two cards each followed
by a doctor are refused, and a followed patient on the card merged away moves to the card kept
(so registering the person again finds them)."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, check_in, doctor_with_profile, patient_body, register

pytestmark = pytest.mark.anyio

SHARED = "0912345678"


async def test_merging_two_followed_patients_is_refused_and_changes_nothing(client, world):
    await doctor_with_profile(client, world)
    lan = await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    be = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    red = await check_in(client, world, be["id"], spo2=92, respiratory_rate=40)
    r = await client.post(
        f"/api/v1/contacts/{lan['contact_id']}/merge",
        json={"merge_id": be["contact_id"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "merge_id"
    assert "mạng lưới bác sĩ" in r.json()["detail"] and "kết thúc" in r.json()["detail"]
    doctor = world.auth("doctor")
    child = (await client.get(f"{API}/patients/{be['id']}", headers=doctor)).json()
    assert child["contact_id"] == be["contact_id"] and child["name"] == "Nguyễn Văn Bé"
    case = await client.get(f"/api/v1/cases/{red['case_code']}", headers=world.auth("operator"))
    assert case.json()["contact"]["name"] == "Nguyễn Văn Bé"


async def test_a_followed_patient_on_the_card_merged_away_moves_to_the_card_kept(client, world):
    await doctor_with_profile(client, world)
    auth = world.auth("supervisor")
    card = await client.post(
        "/api/v1/contacts", json={"name": "Lê Văn Hùng", "phones": ["0903123456"]}, headers=auth
    )
    assert card.status_code == 201, card.text
    keep_id = card.json()["id"]
    # The same man registered from another phone became a second card; staff merge them.
    followed = await register(client, world, name="Lê Văn Hùng", phone="0987000111")
    assert followed["contact_id"] != keep_id
    r = await client.post(
        f"/api/v1/contacts/{keep_id}/merge",
        json={"merge_id": followed["contact_id"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    doctor = world.auth("doctor")
    moved = (await client.get(f"{API}/patients/{followed['id']}", headers=doctor)).json()
    assert moved["contact_id"] == keep_id and moved["state"] == "active", moved
    # Registered again under the kept card's number: the same person, still followed once.
    again = await client.post(
        f"{API}/patients", json=patient_body(name="Lê Văn Hùng", phone="0903123456"), headers=auth
    )
    assert again.status_code == 409, again.text
    assert again.json()["patient_id"] == followed["id"]
