"""The live `care.*` events (to the patient's doctor and the supervisors) say that a
patient has news, never what: no tier, severity, NEWS2 or warning sign travels on the
stream or stays in its event log, where a delivery is not a logged read. The pages fetch
the values on the event (/care/alerts/list, /care/worklist), each fetch a logged read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from hotline.events import EventRow
from tests.care.helpers import check_in, doctor_with_profile, register
from tests.care.test_pages import reads
from tests.conftest import live_events

pytestmark = pytest.mark.anyio

MEDICAL_KEYS = {"tier", "severity", "news2", "warning_signs", "risk", "spo2"}
MEDICAL_WORDS = ("red", "critical", "severe", "low_spo2", "fast_breathing", "orange", "green")


def _plain(data: dict[str, Any]) -> None:
    assert not MEDICAL_KEYS & set(data), data
    text = json.dumps(data)
    for word in MEDICAL_WORDS:
        assert word not in text, (word, data)


async def test_care_events_carry_no_medical_values_and_the_fetch_is_logged(
    app, client, world, signed_in
):
    from hotline.auth.service import actor_for_token
    from hotline.web.sse import as_seen_by

    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world)
    async with live_events(app) as queue:
        done = await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26)
        await app.state.hotline.feed.sync()
        found = []
        while not queue.empty():
            event = queue.get_nowait()
            if event.kind.startswith("care."):
                found.append(event)
    assert done["tier"] == "red" and done["case_code"]
    assert {e.kind for e in found} == {"care.alert", "care.checkin"}
    async with app.state.hotline.unit_of_work() as session:
        actor = await actor_for_token(session, token=world.tokens["doctor"])
        logged = (await session.scalars(select(EventRow).where(EventRow.kind.like("care.%")))).all()
    for event in found:
        assert event.data["patient_id"] == patient["id"] and event.data["doctor_id"] == doctor
        _plain(event.data)
        # As the stream sends it to the patient's doctor.
        _plain(as_seen_by(actor, event)["data"])
    alert = next(e for e in found if e.kind == "care.alert")
    assert alert.data["reason"] == "escalated" and alert.case_code == done["case_code"]
    assert {r.kind for r in logged} >= {"care.alert", "care.checkin"}
    for row in logged:
        _plain(row.data)
    # The values come with the fetch the event prompts, a logged read of the patient.
    before = len(await reads(app, doctor))
    async with signed_in("doctor") as c:
        rows = await c.get("/care/worklist")
        assert rows.status_code == 200 and "Đỏ" in rows.text
    after = await reads(app, doctor)
    assert len(after) > before
    assert patient["contact_id"] in {r.contact_id for r in after[before:]}


async def test_an_older_care_event_with_values_is_sent_without_them(app, world):
    """A `care.alert` logged before the events stopped carrying values (a client resuming
    from the event log gets it again) is sent with its values left out."""
    from hotline.auth.service import actor_for_token
    from hotline.events import DomainEvent
    from hotline.web.sse import as_seen_by

    old = DomainEvent(
        kind="care.alert",
        case_code="HQBQ-BQCK",
        data={
            "patient_id": 1, "doctor_id": 2, "reason": "red_tier", "checkin_id": 3,
            "warning_signs": ["cyanosis"], "tier": "red", "severity": "critical", "news2": 7,
        },
    )  # fmt: skip
    async with app.state.hotline.unit_of_work() as session:
        actor = await actor_for_token(session, token=world.tokens["supervisor"])
    sent = as_seen_by(actor, old)["data"]
    _plain(sent)
    assert sent == {"patient_id": 1, "doctor_id": 2, "reason": "escalated", "checkin_id": 3}
