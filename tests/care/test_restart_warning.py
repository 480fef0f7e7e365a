"""A check-in with warning signs (SpO2 93 %, respiratory rate 26) sent to the real web app
(`hotline serve`) while the worker is down, or while the web app is killed with SIGKILL in
the middle of the escalation: one urgent case in the 115 unit's inbox and one alert, never
half of it. The escalation is the check-in's own transaction (care/checkins.py), so the
worker has no part in it: started and killed after it, it adds nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.care.models import CheckIn, SlotState
from hotline.cases.models import Case
from hotline.contacts.models import Channel
from tests.care.helpers import API, doctor_with_profile, officer_115, register
from tests.care.programs import PgLock, programs, serve, until, worker
from tests.care.test_restart_missed import (
    _due_ago,
    _first_slot,
    _raised,
    _reached,
    _signed_in,
)

pytestmark = pytest.mark.anyio

SIGNS = {"spo2": 93, "respiratory_rate": 26}
ESCALATED = ("care.alert", "escalated")


async def _counts(app: Any, patient_id: int) -> tuple[int, int]:
    """The patient's check-ins, and the urgent cases home care opened."""
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        checkins = await session.scalar(
            select(func.count()).select_from(CheckIn).where(CheckIn.patient_id == patient_id)
        )
        cases = await session.scalar(
            select(func.count()).select_from(Case).where(Case.channel == Channel.CARE)
        )
    return int(checkins or 0), int(cases or 0)


async def _shown(base: str, patient: dict[str, Any], code: str) -> None:
    """The 115 unit's inbox lists the case; the coordinator's alerts list the patient."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        await _signed_in(http, "dieuphoi115")
        inbox = await http.get("/inbox")
    assert inbox.status_code == 200 and inbox.text.count(code) >= 1
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        await _signed_in(http, "supervisor")
        alerts = await http.get("/care/alerts/list")
    assert alerts.status_code == 200
    assert patient["name"] in alerts.text and code in alerts.text


async def _check_in(base: str, auth: dict[str, str], patient_id: int) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        return await http.post(f"{API}/patients/{patient_id}/checkins", json=SIGNS, headers=auth)


async def test_warning_signs_sent_while_the_worker_is_down_open_one_case_and_one_alert(
    app, client, world, settings
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    probe = await register(client, world, phone="0903000099", name="Trần Văn Dò")
    await officer_115(app, client)
    async with programs() as started:
        web, base = await serve(settings)
        started.append(web)
        r = await _check_in(base, world.auth("doctor"), patient["id"])
        assert r.status_code == 201, r.text
        code = r.json()["case_code"]
        assert code and r.json()["warning_signs"] == ["respiratory_rate", "spo2"]
        assert await _counts(app, patient["id"]) == (1, 1)
        assert await _raised(app, patient["id"]) == [ESCALATED]
        await _shown(base, patient, code)
        # The worker started late, killed, started again (each time after a sweep: the
        # probe patient's reminder shows one ran) changes none of it.
        for _ in range(2):
            slot = await _first_slot(app, probe["id"])
            await _due_ago(app, slot, 61)
            started.append(w := worker(settings))
            await until(lambda s=slot: _reached(app, s, SlotState.REMINDED), "a sweep")
            w.kill()
        assert await _counts(app, patient["id"]) == (1, 1)
        assert await _raised(app, patient["id"]) == [ESCALATED]
        await _shown(base, patient, code)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_web_app_killed_mid_escalation_leaves_nothing_and_the_retry_opens_one_case(
    app, client, world, settings
):
    """Killed after the check-in and the case were written, before their events: the
    transaction never commits, so there is no check-in without its case or alert; the
    sender got no answer and sends again to the restarted app."""
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await officer_115(app, client)
    lock = PgLock(settings)
    async with programs() as started:
        web, base = await serve(settings)
        started.append(web)
        # Events are written last in the escalation's transaction: holding their table
        # stops the request there, its check-in and case written but not committed.
        await lock.hold("LOCK TABLE event IN EXCLUSIVE MODE")
        sent = asyncio.create_task(_check_in(base, world.auth("doctor"), patient["id"]))
        await until(lock.waiting, "the check-in waits to write its events")
        web.kill()
        with pytest.raises(httpx.TransportError):
            await sent
        await lock.release()
        await until(lock.settled, "the killed request's transaction ended")
        assert await _counts(app, patient["id"]) == (0, 0)
        assert await _raised(app, patient["id"]) == []
        web, base = await serve(settings)
        started.append(web)
        r = await _check_in(base, world.auth("doctor"), patient["id"])
        assert r.status_code == 201, r.text
        code = r.json()["case_code"]
        assert await _counts(app, patient["id"]) == (1, 1)
        assert await _raised(app, patient["id"]) == [ESCALATED]
        await _shown(base, patient, code)
    await lock.close()
