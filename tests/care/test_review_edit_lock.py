"""An edit waits for the patient's other changes in flight: an edit racing the end of the
follow-up finds the patient ended and changes nothing (PostgreSQL: SQLite has one writer)."""

from __future__ import annotations

import asyncio

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.care.followup import PatientEdit, edit_patient, end_follow_up
from hotline.errors import InvalidTransition
from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def test_an_edit_racing_the_end_of_follow_up_changes_nothing(
    app, client, world, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs concurrent writers (PostgreSQL)")
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903229101")
    staff = Actor(
        user_id=await user_id(client, world, "supervisor"),
        username="supervisor",
        role=Role.SUPERVISOR,
    )
    state = app.state.hotline
    ended, outcome = asyncio.Event(), {}

    async def end() -> None:
        async with state.unit_of_work() as session:
            await end_follow_up(session, actor=staff, patient_id=patient["id"], reason="recovered")
            ended.set()
            await asyncio.sleep(1.0)  # still open while the edit reads and waits

    async def edit() -> None:
        await asyncio.wait_for(ended.wait(), 10)
        async with state.unit_of_work() as session:
            try:
                await edit_patient(
                    session,
                    actor=staff,
                    patient_id=patient["id"],
                    data=PatientEdit(address="Số 9 phố Kim Mã"),
                )
            except InvalidTransition as refused:
                outcome["refused"] = refused

    await asyncio.wait_for(asyncio.gather(end(), edit()), 30)
    assert outcome["refused"].field == "state"
    r = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("supervisor"))
    assert r.json()["state"] == "ended" and r.json()["address"] == "Số 3 phố Đội Cấn"
