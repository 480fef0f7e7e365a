"""A check-in falls due and is not made, while the real worker (`hotline worker`, as deployed)
is killed with SIGKILL at the moments that matter and started again: the doctor is reminded
once, then the doctor and the supervisors are alerted once, and a live stream resumed with
Last-Event-ID from a web app that was itself restarted gets both.

The clock is moved as the suite moves it: the check-in's due time is set in the past."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.care.models import CheckInSlot, SlotState
from hotline.db import utcnow
from hotline.events import EventRow
from tests.auth.test_auth import _csrf_of
from tests.care.helpers import doctor_with_profile, register
from tests.care.programs import PgLock, SqliteLock, programs, serve, until, worker
from tests.cases.test_events_sse import _messages, _until
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio

REMINDER = ("care.reminder", None)
ALERT = ("care.alert", "missed_checkin")


def _pg(settings: Any) -> bool:
    return settings.effective_database_url.startswith("postgresql")


async def _first_slot(app: Any, patient_id: int) -> int:
    async with app.state.hotline.unit_of_work() as session:
        slot = await session.scalar(
            select(CheckInSlot)
            .where(CheckInSlot.patient_id == patient_id, CheckInSlot.state == SlotState.DUE)
            .order_by(CheckInSlot.due_at)
        )
        assert slot is not None
        return slot.id


async def _due_ago(app: Any, slot_id: int, minutes: int) -> None:
    """The clock moved on: the check-in was due `minutes` ago."""
    async with app.state.hotline.unit_of_work() as session:
        slot = await session.get(CheckInSlot, slot_id)
        assert slot is not None
        slot.due_at = utcnow() - timedelta(minutes=minutes)


async def _state(app: Any, slot_id: int) -> SlotState:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        slot = await session.get(CheckInSlot, slot_id)
        assert slot is not None
        return slot.state


async def _raised(app: Any, patient_id: int) -> list[tuple[str, Any]]:
    """The reminders and alerts the event log holds for the patient, in order."""
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        rows = (
            await session.scalars(
                select(EventRow)
                .where(EventRow.kind.in_(("care.reminder", "care.alert")))
                .order_by(EventRow.id)
            )
        ).all()
    return [(r.kind, r.data.get("reason")) for r in rows if r.data.get("patient_id") == patient_id]


def _lock(settings: Any) -> PgLock | SqliteLock:
    return PgLock(settings) if _pg(settings) else SqliteLock(settings)


async def _held_up(lock: PgLock | SqliteLock, program: Any) -> None:
    """Wait until the program is stopped by the test's lock: on PostgreSQL its sweep has
    read the overdue check-in and waits to write it (the transaction open, nothing
    committed); on SQLite it waits for the write lock every transaction begins with."""
    if isinstance(lock, PgLock):
        await until(lock.waiting, "the worker waits on the check-in's row")
    else:

        async def opened() -> bool:
            return lock.opened_by(program)

        await until(opened, "the worker opened the database")
        await asyncio.sleep(0.5)


async def _hold(lock: PgLock | SqliteLock, slot_id: int) -> None:
    if isinstance(lock, PgLock):
        await lock.hold(f"SELECT id FROM care_checkin_slot WHERE id = {slot_id} FOR UPDATE")
    else:
        await lock.hold()


async def _settle(lock: PgLock | SqliteLock) -> None:
    """The killed worker's transaction, which waited on our lock, has ended (PostgreSQL
    carries on with a statement whose client is gone, then rolls it back)."""
    if isinstance(lock, PgLock):
        await until(lock.settled, "the killed worker's transaction ended")


async def _reached(app: Any, slot_id: int, state: SlotState) -> bool:
    return await _state(app, slot_id) == state


async def test_a_missed_check_in_is_reminded_once_then_alerted_once_across_worker_kills(
    app, client, world, settings
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    slot = await _first_slot(app, patient["id"])
    await _due_ago(app, slot, 61)
    lock = _lock(settings)
    async with programs() as started:
        # Killed inside the reminder's sweep, before it could commit.
        await _hold(lock, slot)
        started.append(w := worker(settings))
        await _held_up(lock, w)
        w.kill()
        await lock.release()
        await _settle(lock)
        assert await _state(app, slot) == SlotState.DUE
        assert await _raised(app, patient["id"]) == []
        # Started again: the reminder, once. Then killed between the reminder and the alert.
        started.append(w := worker(settings))
        await until(lambda: _reached(app, slot, SlotState.REMINDED), "the reminder")
        w.kill()
        assert await _raised(app, patient["id"]) == [REMINDER]
        # Three hours after the due time, killed inside the alert's sweep.
        await _due_ago(app, slot, 181)
        await _hold(lock, slot)
        started.append(w := worker(settings))
        await _held_up(lock, w)
        w.kill()
        await lock.release()
        await _settle(lock)
        assert await _state(app, slot) == SlotState.REMINDED
        assert await _raised(app, patient["id"]) == [REMINDER]
        # Started again: the alert, once, and no second reminder.
        started.append(w := worker(settings))
        await until(lambda: _reached(app, slot, SlotState.MISSED), "the alert")
        # Killed and started once more: nothing is raised again.
        w.kill()
        started.append(w := worker(settings))
        await until(lambda: _reached(app, slot, SlotState.MISSED), "the worker's sweep")
        await asyncio.sleep(2)
        w.kill()
    await lock.close()
    assert await _raised(app, patient["id"]) == [REMINDER, ALERT]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_worker_started_while_the_last_one_still_sweeps_reminds_once(
    app, client, world, settings
):
    """A restart where the new worker starts before the old one is gone (a hung process
    replaced, a deploy): both sweeps read the check-in due; one reminder."""
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    slot = await _first_slot(app, patient["id"])
    await _due_ago(app, slot, 61)
    lock = PgLock(settings)
    async with programs() as started:
        await _hold(lock, slot)
        started.append(old := worker(settings))
        await until(lock.waiting, "the first worker waits on the check-in's row")
        started.append(new := worker(settings))

        async def both() -> bool:
            return len(await lock.waiting_pids()) >= 2

        await until(both, "the second worker waits on it too")
        await lock.release()
        await until(lambda: _reached(app, slot, SlotState.REMINDED), "the reminder")
        await _settle(lock)
        old.kill()
        new.kill()
    await lock.close()
    assert await _raised(app, patient["id"]) == [REMINDER]


async def _signed_in(http: httpx.AsyncClient, who: str) -> None:
    page = await http.get("/login")
    r = await http.post(
        "/login", data={"username": who, "password": PASSWORD, "csrf": _csrf_of(page.text)}
    )
    assert r.status_code == 303, r.text


async def _position(base: str, auth: dict[str, str]) -> str:
    """Open the live stream, note where it stands (the `ready` id), leave."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/v1/events", headers=auth) as r,
    ):
        ready = await _until(_messages(r.aiter_lines()), "ready")
        return str(ready["id"])


async def _resumed(base: str, auth: dict[str, str], last: str, patient_id: int) -> list[Any]:
    """What a client resuming from `last` gets for the patient: until the alert, then
    whatever else comes in the next two seconds (a duplicate would)."""
    got: list[tuple[str, Any]] = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/v1/events", headers={**auth, "Last-Event-ID": last}) as r,
    ):
        messages = _messages(r.aiter_lines())

        async def collect() -> None:
            async for m in messages:
                if not m["event"].startswith("care."):
                    continue
                data = json.loads(m["data"])["data"]
                if data.get("patient_id") == patient_id:
                    got.append((m["event"], data.get("reason")))

        task = asyncio.create_task(collect())
        try:
            await until(lambda: _has(got, ALERT), "the alert on the resumed stream", 15)
            await asyncio.sleep(2)
        finally:
            task.cancel()
    return got


async def _has(got: list[Any], item: Any) -> bool:
    return item in got


async def test_a_stream_resumed_after_the_web_app_restarted_gets_the_alert_raised_meanwhile(
    app, client, world, settings
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    slot = await _first_slot(app, patient["id"])
    async with programs() as started:
        web, base = await serve(settings)
        started.append(web)
        positions = {
            who: await _position(base, world.auth(who)) for who in ("doctor", "supervisor")
        }
        web.kill()
        # While the web app is down the worker reminds (and is killed), then alerts.
        await _due_ago(app, slot, 61)
        started.append(w := worker(settings))
        await until(lambda: _reached(app, slot, SlotState.REMINDED), "the reminder")
        w.kill()
        await _due_ago(app, slot, 181)
        started.append(w := worker(settings))
        await until(lambda: _reached(app, slot, SlotState.MISSED), "the alert")
        w.kill()
        web, base = await serve(settings)
        started.append(web)
        for who, last in positions.items():
            got = await _resumed(base, world.auth(who), last, patient["id"])
            assert got == [REMINDER, ALERT], who
        # The alerts page of the restarted app lists the missed check-in.
        for who in ("supervisor", "doctor"):
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                await _signed_in(http, who)
                page = await http.get("/care/alerts/list")
            assert page.status_code == 200
            assert patient["name"] in page.text, who
        web.kill()


async def test_a_check_in_made_after_the_alert_time_while_the_worker_was_down_is_still_missed(
    app, client, world, settings
):
    """The worker was down through the reminder's and the alert's times, and the patient
    checked in late: that check-in is missed all the same (as it would have been with the
    worker up), without a live alert for a silence that has ended (the alerts page lists
    none either); the next check-in due counts it."""
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    probe = await register(client, world, phone="0903000099", name="Trần Văn Dò")
    slot = await _first_slot(app, patient["id"])
    await _due_ago(app, slot, 200)
    r = await client.post(
        f"/api/v1/care/patients/{patient['id']}/checkins",
        json={"spo2": 98, "respiratory_rate": 16},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201, r.text
    probe_slot = await _first_slot(app, probe["id"])
    await _due_ago(app, probe_slot, 61)
    async with programs() as started:
        started.append(w := worker(settings))
        await until(lambda: _reached(app, probe_slot, SlotState.REMINDED), "the sweep")
        w.kill()
    assert await _state(app, slot) == SlotState.MISSED
    assert await _raised(app, patient["id"]) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_worker_whose_database_connection_dies_mid_sweep_keeps_going(
    app, client, world, settings
):
    """PostgreSQL restarted or fails over under the worker: the sweep in progress fails
    with its connection; the worker carries on and reminds once the database answers."""
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    slot = await _first_slot(app, patient["id"])
    await _due_ago(app, slot, 61)
    lock = PgLock(settings)
    async with programs() as started:
        await _hold(lock, slot)
        started.append(w := worker(settings))
        await until(lock.waiting, "the worker waits on the check-in's row")
        for pid in await lock.waiting_pids():
            await lock.terminate(pid)
        await lock.release()
        await until(lambda: _reached(app, slot, SlotState.REMINDED), "the reminder", program=w)
        w.kill()
    await lock.close()
    assert await _raised(app, patient["id"]) == [REMINDER]
