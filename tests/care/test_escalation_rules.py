"""What escalates (an urgent case to the 115 unit and a `care.alert`): a warning sign, the
severe forms of breathlessness, and a red tier (severe or critical severity, NEWS2 of 7 or
more) without one; symptoms not asked again stand; a child's breathing judged by the
children's limits (CARE.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from hotline.events import EventRow
from tests.care.helpers import API, check_in, doctor_with_profile, register
from tests.care.test_alert_pages import alert_rows

pytestmark = pytest.mark.anyio


async def alerts_of(app: Any, patient_id: int) -> list[dict[str, Any]]:
    async with app.state.hotline.unit_of_work() as session:
        rows = await session.scalars(
            select(EventRow).where(EventRow.kind == "care.alert").order_by(EventRow.id)
        )
        return [r.data for r in rows.all() if r.data.get("patient_id") == patient_id]


@pytest.mark.parametrize("sign", ["severe_breathlessness", "accessory_muscles"])
async def test_the_severe_forms_of_breathlessness_escalate(app, client, world, sign):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    done = await check_in(client, world, patient["id"], symptoms=[sign])
    assert done["severity"] == "severe" and done["tier"] == "red"
    assert sign in done["warning_signs"]
    assert done["case_code"]
    assert [a["reason"] for a in await alerts_of(app, patient["id"])] == ["escalated"]
    case = await client.get(f"/api/v1/cases/{done['case_code']}", headers=world.auth("supervisor"))
    assert case.json()["urgent"] is True
    assert case.json()["description"].startswith("Dấu hiệu cảnh báo: ")


async def test_a_critical_adult_without_a_warning_sign_escalates(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    done = await check_in(client, world, patient["id"], respiratory_rate=8, spo2=97, pulse=80)
    assert done["severity"] == "critical" and done["tier"] == "red"
    assert done["warning_signs"] == []
    assert done["case_code"]
    # The live alert names no severity (test_live_care_events): the check-in does.
    alerts = await alerts_of(app, patient["id"])
    assert [(a["reason"], a["checkin_id"]) for a in alerts] == [("escalated", done["id"])]
    case = await client.get(f"/api/v1/cases/{done['case_code']}", headers=world.auth("supervisor"))
    text = case.json()["description"]
    assert text.startswith("Nguy cơ cao: mức độ nguy kịch.") and "nhịp thở 8/phút" in text
    async with signed_in("supervisor") as c:
        page = await c.get("/care/alerts/list")
        assert alert_rows(page.text) == [("warning_signs", patient["id"])]
        assert "Nguy kịch" in page.text


@pytest.mark.parametrize(
    ("vitals", "escalates"),
    [
        # NEWS2 7 (high: emergency response) from vitals no warning sign names: red.
        ({"respiratory_rate": 11, "pulse": 112, "temperature": 39.5, "systolic_bp": 95,
          "spo2": 97}, True),
        # NEWS2 6 (medium: urgent review by the doctor): orange, no 115 case.
        ({"respiratory_rate": 12, "pulse": 112, "temperature": 39.5, "systolic_bp": 95,
          "spo2": 97}, False),
    ],
)  # fmt: skip
async def test_news2_of_seven_escalates_and_six_does_not(app, client, world, vitals, escalates):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    done = await check_in(client, world, patient["id"], **vitals)
    assert (done["tier"] == "red") is escalates, done
    assert bool(done["case_code"]) is escalates, done
    assert bool(await alerts_of(app, patient["id"])) is escalates


async def test_symptoms_not_asked_again_stand(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    first = await check_in(client, world, patient["id"], symptoms=["cyanosis"])
    assert first["severity"] == "critical" and first["tier"] == "red" and first["case_code"]
    # A complete check-in that did not ask about symptoms: the cyanosis still stands.
    later = await check_in(client, world, patient["id"], spo2=97, respiratory_rate=16, pulse=80)
    assert later["symptoms_recorded"] is False
    assert later["symptoms_carried"] == ["cyanosis"]
    assert later["warning_signs"] == ["cyanosis"]
    assert later["severity"] == "critical" and later["tier"] == "red"
    assert later["case_code"] == first["case_code"]
    async with signed_in("supervisor") as c:
        assert alert_rows((await c.get("/care/alerts/list")).text) == [
            ("warning_signs", patient["id"])
        ]
    listed = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert listed.json()[0]["symptoms"] == ["cyanosis"]
    # Symptoms asked and none found clear it; the urgent case still open keeps the patient
    # on the alerts list until it is closed.
    clear = await check_in(
        client, world, patient["id"], spo2=97, respiratory_rate=16, pulse=80, symptoms=[]
    )
    assert clear["symptoms_recorded"] is True and clear["warning_signs"] == []
    assert clear["tier"] == "green"
    async with signed_in("supervisor") as c:
        page = await c.get("/care/alerts/list")
        assert alert_rows(page.text) == [("urgent_case", patient["id"])]
        assert first["case_code"] in page.text


@pytest.mark.parametrize(
    ("age", "rate", "severity", "sign"),
    [
        (3, 35, "asymptomatic", False),
        (3, 39, "asymptomatic", False),
        (3, 40, "moderate", True),
        (8, 29, "asymptomatic", False),
        (8, 30, "moderate", True),
        (45, 19, "asymptomatic", False),
        (45, 20, "moderate", False),
    ],
)
async def test_a_childs_breathing_is_judged_by_the_childrens_limits(
    app, client, world, age, rate, severity, sign
):
    await doctor_with_profile(client, world)
    patient = await register(client, world, age=age, vaccine_doses=0)
    done = await check_in(client, world, patient["id"], respiratory_rate=rate, spo2=98)
    assert done["severity"] == severity, done
    assert ("respiratory_rate" in done["warning_signs"]) is sign, done
    # A warning sign escalates; a child's rate under their limit is no risk at all (NEWS2,
    # an adult's score, does not colour a child's tier).
    assert done["tier"] != "red" and bool(done["case_code"]) is sign
    if age < 12 and not sign:
        assert done["tier"] == "green"
