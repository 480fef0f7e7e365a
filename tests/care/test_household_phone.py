"""A household shares one phone: each member is followed under their own name, each member's
urgent case carries the number to call back, readings are never put on another member's
record, and one person is still followed once. Registering by phone without a name never
answers with the name on record."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.care.models import CarePatient
from hotline.care.registration import PatientIn, register_patient
from hotline.contacts.models import ContactSharedPhone
from hotline.errors import Conflict
from tests.agents.test_agents import user_id
from tests.calls.test_calls import record_call_for
from tests.care.helpers import (
    API,
    check_in,
    doctor_with_profile,
    officer_115,
    patient_body,
    register,
)

pytestmark = pytest.mark.anyio

SHARED = "0912345678"
SHARED_E164 = "+84912345678"


async def _mother_on_record(client, world) -> int:
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Nguyễn Thị Lan", "phones": [SHARED]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_two_members_on_one_phone_are_followed_each_under_their_own_name(client, world):
    await doctor_with_profile(client, world)
    mother_id = await _mother_on_record(client, world)
    mother = await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    assert mother["contact_id"] == mother_id and mother["name"] == "Nguyễn Thị Lan"
    assert child["contact_id"] != mother_id and child["name"] == "Nguyễn Văn Bé"
    assert "Nguyễn Thị Lan" not in str(child)
    # Both carry the household's number, and are told it is shared.
    assert child["phones"] == child["shared_phones"] == [SHARED_E164], child
    doctor = world.auth("doctor")
    mother = (await client.get(f"{API}/patients/{mother['id']}", headers=doctor)).json()
    assert mother["phones"] == mother["shared_phones"] == [SHARED_E164], mother
    listed = await client.get(f"{API}/patients", headers=world.auth("supervisor"))
    names = {p["name"]: p["phones"] for p in listed.json()}
    assert names == {"Nguyễn Thị Lan": [SHARED_E164], "Nguyễn Văn Bé": [SHARED_E164]}


async def test_each_member_is_still_followed_once(client, world):
    await doctor_with_profile(client, world)
    await _mother_on_record(client, world)
    mother = await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    auth = world.auth("supervisor")
    # Typed again, with or without diacritics and with odd spacing: the same person, 409.
    for name, patient in (("nguyen thi  LAN", mother), ("NGUYỄN VĂN BÉ", child)):
        r = await client.post(
            f"{API}/patients", json=patient_body(name=name, phone=SHARED), headers=auth
        )
        assert r.status_code == 409 and r.json()["field"] == "phone", r.text
        assert r.json()["patient_id"] == patient["id"]


async def test_a_members_urgent_case_carries_the_shared_number_to_call_back(app, client, world):
    await doctor_with_profile(client, world)
    await _mother_on_record(client, world)
    await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    red = await check_in(client, world, child["id"], spo2=92, respiratory_rate=40)
    assert red["case_code"]
    officer = await officer_115(app, client)
    case = await client.get(f"/api/v1/cases/{red['case_code']}", headers=officer)
    assert case.status_code == 200, case.text
    contact = case.json()["contact"]
    assert contact["name"] == "Nguyễn Văn Bé"
    assert contact["phones"] == [SHARED_E164]


async def test_readings_of_one_member_never_land_on_the_other(client, world):
    await doctor_with_profile(client, world)
    await _mother_on_record(client, world)
    mother = await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    # The child's own link (the carer sends from the shared phone) and the doctor's
    # check-in on the mother's page: each reading goes to the member it was sent for.
    link = child["checkin_link"]
    page = await client.get(link)
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = await client.post(link, data={"spo2": "95", "csrf": csrf})
    assert r.status_code == 200, r.text
    await check_in(client, world, mother["id"], spo2=98, pulse=80)
    doctor = world.auth("doctor")
    of_child = (await client.get(f"{API}/patients/{child['id']}/checkins", headers=doctor)).json()
    of_mother = (await client.get(f"{API}/patients/{mother['id']}/checkins", headers=doctor)).json()
    assert [(c["source"], c["spo2"]) for c in of_child] == [("link", 95)]
    assert [(c["source"], c["spo2"]) for c in of_mother] == [("doctor", 98)]


async def test_a_call_from_the_shared_phone_shows_on_each_members_page(client, world, signed_in):
    await doctor_with_profile(client, world)
    await _mother_on_record(client, world)
    await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    r = await record_call_for(
        client,
        world,
        {
            "line": "1022",
            "caller": SHARED,
            "started_at": "2026-11-20T02:00:00Z",
            "answered_at": "2026-11-20T02:00:30Z",
            "ended_at": "2026-11-20T02:04:30Z",
            "menu_path": "3",
            "queue_wait_seconds": 30,
            "talk_seconds": 240,
            "outcome": "answered",
        },
    )
    assert r.status_code == 201, r.text
    async with signed_in("doctor") as c:
        page = await c.get(f"/care/patients/{child['id']}")
    assert page.status_code == 200
    # The call rang from the household's phone: the child's page lists it, and says the
    # number is shared, so the doctor asks who is speaking before recording anything.
    assert 'id="calls"' in page.text and "240 giây" in page.text
    assert 'id="shared-phone"' in page.text


async def test_a_known_number_without_a_name_does_not_answer_the_name_on_record(client, world):
    await doctor_with_profile(client, world)
    auth = world.auth("doctor")
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Phạm Thị Hoa", "phones": ["0912345679"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    body = patient_body(name="", phone="0912345679")
    r = await client.post(f"{API}/patients", json=body, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "name", r.text
    assert "Phạm Thị Hoa" not in r.text


async def test_one_new_member_registered_twice_at_once_is_followed_once(
    app, client, world, database_url
):
    """Both registrations look for the member on the number before either commits
    (PostgreSQL: SQLite has one writer at a time): the second waits on the number and then
    finds the member the first added, answered as a repeated registration is."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs concurrent writers (PostgreSQL)")
    await doctor_with_profile(client, world)
    await _mother_on_record(client, world)
    state = app.state.hotline
    staff = Actor(
        user_id=await user_id(client, world, "supervisor"),
        username="supervisor",
        role=Role.SUPERVISOR,
    )
    data = PatientIn(status="F0", name="Nguyễn Văn Bé", phone=SHARED, age=6)
    first_added = asyncio.Event()
    outcome: dict[str, Any] = {}

    async def first() -> None:
        async with state.unit_of_work() as session:
            outcome["first"] = (await register_patient(session, actor=staff, data=data)).id
            first_added.set()
            # Open until the second registration waits for the number.
            waiting = 0
            for _ in range(200):
                async with state.unit_of_work(read_only=True) as watch:
                    waiting = await watch.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                    )
                if waiting:
                    break
                await asyncio.sleep(0.05)
            outcome["waited"] = bool(waiting)

    async def second() -> None:
        await asyncio.wait_for(first_added.wait(), 10)
        async with state.unit_of_work() as session:
            try:
                await register_patient(session, actor=staff, data=data)
            except Conflict as refused:
                outcome["second"] = refused

    await asyncio.wait_for(asyncio.gather(first(), second()), 30)
    assert outcome["waited"]
    refused = outcome["second"]
    assert refused.field == "phone" and refused.extra == {"patient_id": outcome["first"]}
    async with state.unit_of_work(read_only=True) as session:
        members = await session.scalar(select(func.count()).select_from(ContactSharedPhone))
        followed = await session.scalar(
            select(func.count()).select_from(CarePatient).where(CarePatient.state != "ended")
        )
    assert (members, followed) == (1, 1)


async def test_merging_two_cards_of_one_member_keeps_the_shared_number_once(client, world):
    await doctor_with_profile(client, world)
    await _mother_on_record(client, world)
    await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    child = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    # The same child typed under a nickname became a second member; staff merge the cards.
    again = await register(client, world, name="Bé Bin", age=6, phone=SHARED)
    # Both cards are followed: the doctor ends the nickname's follow-up before the merge.
    ended = await client.post(
        f"{API}/patients/{again['id']}/end",
        json={"reason": "other", "note": "Trùng hồ sơ"},
        headers=world.auth("doctor"),
    )
    assert ended.status_code == 200, ended.text
    r = await client.post(
        f"/api/v1/contacts/{child['contact_id']}/merge",
        json={"merge_id": again["contact_id"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    card = await client.get(
        f"/api/v1/contacts/{again['contact_id']}", headers=world.auth("operator")
    )
    assert card.json()["id"] == child["contact_id"]
    assert card.json()["phones"] == [SHARED_E164]
