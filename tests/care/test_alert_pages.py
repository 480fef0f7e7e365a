"""The care coordinator's alerts page (`/care/alerts`) over HTTP: the alerts standing now
(warning signs with their urgent case, check-ins missed), who sees which, the read logged.
Its live refresh in a real browser: tests/e2e/test_care.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.care.models import CheckInSlot, SlotState
from hotline.db import utcnow
from tests.care.helpers import doctor_with_profile, new_doctor, register
from tests.care.test_pages import check_in, reads

pytestmark = pytest.mark.anyio


def alert_rows(html: str) -> list[tuple[str, int]]:
    return [(r, int(i)) for r, i in re.findall(r'<tr id="alert-(\w+)-(\d+)"', html)]


async def test_supervisors_see_warning_signs_with_the_patient_and_the_urgent_case(
    app, client, world, signed_in
):
    await doctor_with_profile(client, world)
    worse = await register(client, world, phone="0903000001", name="Người Nặng")
    calm = await register(client, world, phone="0903000002", name="Người Khỏe")
    result = await check_in(client, world, worse, spo2=93, respiratory_rate=26)
    await check_in(client, world, calm, spo2=98, respiratory_rate=16)
    async with signed_in("supervisor") as c:
        home = await c.get("/care/patients")
        assert 'href="/care/alerts">Cảnh báo chăm sóc</a>' in home.text
        page = await c.get("/care/alerts")
        assert page.status_code == 200, page.text
        assert alert_rows(page.text) == [("warning_signs", worse["id"])]
        row = page.text[page.text.index(f'id="alert-warning_signs-{worse["id"]}"') :]
        row = row.split("</tr>")[0]
        assert f'href="/care/patients/{worse["id"]}">Người Nặng</a>' in row
        assert f'href="/cases/{result["case_code"]}"' in row
        assert "SpO2 thấp" in row and "Nhịp thở nhanh" in row and ">spo2<" not in row
        assert 'data-rows-url="/care/alerts/list"' in page.text
        assert re.search(r'data-last-event="\d+"', page.text)
        # The list the live refresh fetches; a complete check-in without signs clears the
        # warning signs (a partial one keeps the open urgent case's risk), the urgent case
        # still open keeps the patient listed until it is closed.
        await check_in(client, world, worse, spo2=98, respiratory_rate=16, pulse=80)
        listed = await c.get("/care/alerts/list")
        assert listed.status_code == 200
        assert alert_rows(listed.text) == [("urgent_case", worse["id"])]
        assert "Ca cấp cứu đang mở" in listed.text and "SpO2 thấp" not in listed.text
    assert (await client.get("/care/alerts/list")).status_code == 401


async def test_a_missed_check_in_is_an_alert_until_the_next_one(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    due = utcnow() - timedelta(hours=2)
    async with app.state.hotline.unit_of_work() as session:
        session.add(
            CheckInSlot(
                patient_id=patient["id"], due_at=due, state=SlotState.MISSED, alerted_at=utcnow()
            )
        )
        # One missed two days ago no longer stands.
        session.add(
            CheckInSlot(
                patient_id=patient["id"],
                due_at=due - timedelta(days=2),
                state=SlotState.MISSED,
                alerted_at=due - timedelta(days=2),
            )
        )
    async with signed_in("supervisor") as c:
        page = await c.get("/care/alerts")
        assert alert_rows(page.text) == [("missed_checkin", patient["id"])]
        assert "Bỏ lỡ lần đo" in page.text
    await check_in(client, world, patient, spo2=97)
    async with signed_in("supervisor") as c:
        assert alert_rows((await c.get("/care/alerts")).text) == []


async def test_a_doctor_sees_only_their_patients_alerts_and_an_operator_none(
    app, client, world, signed_in
):
    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world)
    await check_in(client, world, patient, spo2=92)
    await new_doctor(app, client, "bacsi2")
    async with signed_in("doctor") as c:
        page = await c.get("/care/alerts")
        assert alert_rows(page.text) == [("warning_signs", patient["id"])]
        assert 'href="/care/alerts"' not in page.text.split("</header>")[0]
    assert patient["contact_id"] in [
        r.contact_id for r in await reads(app, doctor) if r.purpose == "care_alerts"
    ]
    async with signed_in("bacsi2") as c:
        page = await c.get("/care/alerts")
        assert page.status_code == 200 and alert_rows(page.text) == []
        assert "Lê Văn Hùng" not in page.text
    async with signed_in("operator") as c:
        assert (await c.get("/care/alerts")).status_code == 403
        assert (await c.get("/care/alerts/list")).status_code == 403


async def test_the_alerts_page_in_english(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await check_in(client, world, patient, spo2=92)
    async with signed_in("supervisor") as c:
        c.cookies.set("lang", "en")
        page = await c.get("/care/alerts")
        assert "Home care alerts" in page.text and "Low SpO2" in page.text
        assert "Cảnh báo" not in page.text and "SpO2 thấp" not in page.text


async def test_every_check_in_is_a_live_event_for_the_doctor_and_supervisors_only(
    app, client, world
):
    """A check-in that clears an alert raises none, yet the alerts page must drop the row:
    each check-in is a `care.checkin` event (the pages refetch on it), health data shown only
    to the patient's doctor and the supervisors."""
    from hotline.auth.service import actor_for_token
    from hotline.web.sse import visible
    from tests.conftest import live_events

    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903000003", name="Người Theo Dõi")
    async with live_events(app) as queue:
        await check_in(client, world, patient, spo2=98, respiratory_rate=16, pulse=80)
        await app.state.hotline.feed.sync()
        found = []
        while not queue.empty():
            event = queue.get_nowait()
            if event.kind == "care.checkin":
                found.append(event)
    assert [(e.data["patient_id"], "tier" in e.data) for e in found] == [(patient["id"], False)]
    async with app.state.hotline.unit_of_work() as session:
        seen = {
            who: visible(await actor_for_token(session, token=world.tokens[who]), found[0])
            for who in ("doctor", "supervisor", "operator")
        }
    assert seen == {"doctor": True, "supervisor": True, "operator": False}
