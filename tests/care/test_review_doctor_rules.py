"""A doctor named at registration keeps the reassignment's rules (an active proactive-care
doctor, account active, with room); a doctor deactivated while a registration picks them is
not given the patient."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from hotline.auth.models import Role, User
from hotline.auth.service import Actor
from hotline.care.models import CareDoctor
from hotline.care.registration import PatientIn, register_patient
from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, new_doctor, patient_body, profile

pytestmark = pytest.mark.anyio


async def _other_doctor(app: Any, client: Any, world: Any, username: str, **extra: Any) -> int:
    auth = await new_doctor(app, client, username)
    uid = int((await client.get("/api/v1/users/me", headers=auth)).json()["id"])
    r = await profile(client, world, uid, **extra)
    assert r.status_code == 201, r.text
    return uid


async def _counts(client: Any, world: Any) -> dict[int, int]:
    r = await client.get(f"{API}/doctors", headers=world.auth("supervisor"))
    return {d["user_id"]: d["patient_count"] for d in r.json()}


async def _register(client: Any, world: Any, **body: Any) -> Any:
    return await client.post(
        f"{API}/patients", json=patient_body(**body), headers=world.auth("supervisor")
    )


async def test_a_doctor_named_at_registration_must_follow_patients_at_home(app, client, world):
    await doctor_with_profile(client, world)
    consult = await _other_doctor(app, client, world, "bacsi2", groups=("consult",))
    disabled = await _other_doctor(app, client, world, "bacsi3")
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(User).where(User.id == disabled).values(active=False))
    for n, target in enumerate((consult, disabled)):
        r = await _register(client, world, phone=f"090300040{n}", doctor_id=target)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "doctor_id"
    counts = await _counts(client, world)
    assert (counts[consult], counts[disabled]) == (0, 0)


async def test_a_full_doctor_named_at_registration_is_refused(app, client, world):
    await doctor_with_profile(client, world)
    full = await _other_doctor(app, client, world, "bacsi2", capacity=1)
    r = await _register(client, world, phone="0903000411", doctor_id=full)
    assert r.status_code == 201, r.text
    r = await _register(client, world, phone="0903000412", doctor_id=full)
    assert r.status_code == 409, r.text
    assert r.json()["field"] == "doctor_id" and "1/1" in r.json()["detail"]
    assert (await _counts(client, world))[full] == 1


async def test_a_doctor_deactivated_while_a_registration_picks_them_is_passed_over(
    app, client, world, database_url
):
    """The registration picks the doctor before the deactivation commits, its place UPDATE
    waits on the row and then finds the doctor inactive: the next doctor gets the patient
    (PostgreSQL: SQLite has one writer at a time)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs concurrent writers (PostgreSQL)")
    leaving = await doctor_with_profile(client, world)
    other = await _other_doctor(app, client, world, "bacsi2", capacity=5)
    # The other doctor has one patient already: the registration picks `leaving` first.
    r = await _register(client, world, phone="0903000421", doctor_id=other)
    assert r.status_code == 201, r.text
    state = app.state.hotline
    staff = Actor(
        user_id=await user_id(client, world, "supervisor"),
        username="supervisor",
        role=Role.SUPERVISOR,
    )
    locked, done = asyncio.Event(), {}

    async def deactivate() -> None:
        async with state.unit_of_work() as session:
            await session.execute(
                update(CareDoctor).where(CareDoctor.user_id == leaving).values(active=False)
            )
            locked.set()
            await asyncio.sleep(1.0)  # the registration reads, then waits on the row

    async def registration() -> None:
        await asyncio.wait_for(locked.wait(), 10)
        async with state.unit_of_work() as session:
            patient = await register_patient(
                session, actor=staff, data=PatientIn(status="F0", phone="0903000422", age=30)
            )
            done["doctor_id"] = patient.doctor_id

    await asyncio.wait_for(asyncio.gather(deactivate(), registration()), 30)
    assert done["doctor_id"] == other
    counts = await _counts(client, world)
    assert (counts[leaving], counts[other]) == (0, 2)
