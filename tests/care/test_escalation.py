"""The urgent case a warning sign opens: what its text tells those in charge (and case
search), its channel, what the 115 unit's inbox shows, and a risk that a partial check-in
cannot lower while that case is open."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from hotline.contacts.models import PersonalDataRead
from tests.auth.test_auth import _csrf_of
from tests.care.helpers import API, check_in, doctor_with_profile, officer_115, register
from tests.conftest import PASSWORD, new_case_body, site_today

pytestmark = pytest.mark.anyio


async def test_the_urgent_case_names_signs_and_breathing_never_the_comorbidities(
    app, client, world
):
    await doctor_with_profile(client, world)
    patient = await register(client, world, comorbidities=["hiv", "diabetes"], pregnant=True)
    done = await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26, pulse=100)
    code = done["case_code"]
    # Read by a supervisor: an operator not holding the case reads a neutral line
    # (test_urgent_case_privacy.py).
    case = await client.get(f"/api/v1/cases/{code}", headers=world.auth("supervisor"))
    assert case.status_code == 200, case.text
    text = case.json()["description"]
    assert text.startswith("Dấu hiệu cảnh báo: thở nhanh, SpO2 thấp.")
    assert "SpO2 93%" in text and "nhịp thở 26/phút" in text and "40–49 tuổi" in text
    for secret in ("hiv", "diabetes", "bệnh nền", "có thai", "Lê Văn Hùng", "45 tuổi", "2021"):
        assert secret not in text.lower() if secret.islower() else secret not in text
    # Case search finds nothing by a comorbidity.
    found = await client.get("/api/v1/cases", params={"q": "hiv"}, headers=world.auth("operator"))
    assert found.status_code == 200, found.text
    assert code not in found.text
    # The comorbidities are in the care record: the patient's doctor reads them (logged);
    # an operator gets 404.
    r = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("doctor"))
    assert r.json()["comorbidities"] == ["hiv", "diabetes"]
    r = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("operator"))
    assert r.status_code == 404
    async with app.state.hotline.unit_of_work() as session:
        purposes = (
            await session.scalars(
                select(PersonalDataRead.purpose).where(
                    PersonalDataRead.contact_id == patient["contact_id"]
                )
            )
        ).all()
    assert "care_patient" in purposes


async def test_the_urgent_case_comes_from_the_care_channel_and_reports_count_it(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    done = await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26)
    case = await client.get(f"/api/v1/cases/{done['case_code']}", headers=world.auth("operator"))
    assert case.json()["channel"] == "care"
    today = site_today()
    r = await client.get(
        "/api/v1/reports/summary",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert "care" in r.text
    # Staff record how a citizen reached them: `care` is the system's alone.
    r = await client.post(
        "/api/v1/cases", json=new_case_body(channel="care"), headers=world.auth("operator")
    )
    assert r.status_code == 422 and r.json()["field"] == "channel", r.text


async def test_the_115_inbox_shows_every_warning_sign_first(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await officer_115(app, client)
    symptoms = [
        "breathlessness", "grunting", "chest_indrawing", "nasal_flaring", "stridor",
        "chest_pain", "drowsiness", "convulsions", "cyanosis", "cannot_drink",
        "new_acute_illness",
    ]  # fmt: skip
    await check_in(
        client, world, patient["id"], spo2=90, respiratory_rate=30, pulse=130,
        systolic_bp=85, diastolic_bp=55, symptoms=symptoms,
    )  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": "dieuphoi115", "password": PASSWORD, "csrf": _csrf_of(page.text)},
        )
        assert r.status_code == 303, r.text
        inbox = await c.get("/inbox")
    assert inbox.status_code == 200
    for sign in ("khó thở", "tím tái", "trẻ không uống được", "bệnh cấp tính mới", "thở nhanh",
                 "SpO2 thấp", "mạch bất thường", "huyết áp thấp", "SpO2 90%"):  # fmt: skip
        assert sign in inbox.text, sign


async def test_a_partial_check_in_keeps_the_red_and_the_flag_while_the_case_is_open(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    red = await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26, pulse=100)
    assert red["tier"] == "red"
    partial = await check_in(client, world, patient["id"], temperature=37.0)
    assert (partial["tier"], partial["risk"]) == ("red", "high")
    held = partial["held"]
    assert held["case_code"] == red["case_code"] and held["computed"]["tier"] == "green"
    assert held["missing"] == ["spo2", "respiratory_rate", "pulse"]
    r = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("doctor"))
    assert r.json()["last_result"]["tier"] == "red"
    worklist = await client.get(f"{API}/worklist", headers=world.auth("doctor"))
    assert worklist.json()[0]["last_result"]["tier"] == "red"
    r = await client.get(f"{API}/patients/{patient['id']}/fhir", headers=world.auth("doctor"))
    bundle = Bundle.model_validate(r.json())
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert "Flag" in kinds
    risk = next(
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "RiskAssessment"
    )
    assert risk.prediction[0].qualitativeRisk.coding[0].code == "high"
    # A complete check-in that shows improvement lowers it.
    better = await check_in(client, world, patient["id"], spo2=98, respiratory_rate=16, pulse=80)
    assert better["tier"] == "green" and "held" not in better
    r = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("doctor"))
    assert r.json()["last_result"]["tier"] == "green"


async def test_once_the_urgent_case_is_resolved_a_partial_check_in_counts(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    red = await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26)
    officer = await officer_115(app, client)
    r = await client.post(f"/api/v1/cases/{red['case_code']}/accept", headers=officer)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/cases/{red['case_code']}/resolve",
        json={"answer": "Xe cấp cứu đã đưa người bệnh vào viện."},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    partial = await check_in(client, world, patient["id"], temperature=37.0)
    assert partial["tier"] == "green" and "held" not in partial


async def test_check_ins_sent_at_once_with_warning_signs_open_one_urgent_case(app, client, world):
    """Two phones of one family send the same signs at the same moment: one 115 case, every
    answer naming it."""
    import asyncio

    from sqlalchemy import func, select

    from hotline.cases.models import Case
    from tests.care.helpers import API, doctor_with_profile, register

    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903111333")
    answers = await asyncio.gather(
        *[
            client.post(
                f"{API}/patients/{patient['id']}/checkins",
                json={"spo2": 90, "respiratory_rate": 28},
                headers=world.auth("doctor"),
            )
            for _ in range(4)
        ]
    )
    assert [r.status_code for r in answers] == [201] * 4
    async with app.state.hotline.unit_of_work() as session:
        opened = await session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.contact_id == patient["contact_id"], Case.category_code == "cap_cuu")
        )
    assert opened == 1
    assert len({r.json()["case_code"] for r in answers}) == 1
