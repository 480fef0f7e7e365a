"""Home care through the API: doctors, patients, check-ins and escalation, privacy."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select, update

from hotline.care.consult_windows import available_consult_doctors, next_consult_window
from hotline.care.models import CarePatient, CheckInSlot, SlotState
from hotline.care.schedule import sweep_checkins
from hotline.contacts.models import PersonalDataRead
from tests.agents.test_agents import user_id
from tests.care.helpers import API, doctor_with_profile, new_doctor, patient_body, profile, register
from tests.cases.test_events_sse import _next_event, _serve
from tests.conftest import live_events

pytestmark = pytest.mark.anyio


async def test_a_doctor_with_4_years_is_refused_the_consult_group_and_5_accepted(client, world):
    uid = await user_id(client, world, "doctor")
    r = await profile(client, world, uid, years=4, groups=("consult", "proactive"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "groups"
    assert "5 năm" in r.json()["detail"]
    r = await profile(client, world, uid, years=4, groups=("proactive",))
    assert r.status_code == 201, r.text
    r = await client.put(
        f"{API}/doctors/{uid}",
        json={"years_experience": 5, "groups": ["consult"], "licence_number": "CCHN-123"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    doctor = r.json()
    assert doctor["groups"] == ["consult"]
    assert doctor["availability"] == [
        {"group": "consult", "weekdays": [0, 1, 2, 3, 4, 5, 6], "start": s, "end": e}
        for s, e in (("09:00", "11:00"), ("15:00", "17:00"), ("19:00", "21:00"))
    ]
    r = await profile(client, world, await user_id(client, world, "operator"))
    assert r.status_code == 422 and r.json()["field"] == "user_id"
    r = await client.post(
        f"{API}/doctors",
        json={"user_id": uid, "years_experience": 9},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 403


async def test_consult_availability_in_and_between_the_windows(app, client, world):
    uid = await user_id(client, world, "doctor")
    r = await profile(client, world, uid, years=8, groups=("consult",))
    assert r.status_code == 201
    tz = app.state.hotline.site.timezone
    async with app.state.hotline.unit_of_work() as session:
        at_ten = datetime(2026, 12, 7, 10, 0, tzinfo=tz)
        assert [d.user_id for d in await available_consult_doctors(session, at_ten)] == [uid]
        at_noon = datetime(2026, 12, 7, 12, 0, tzinfo=tz)
        assert await available_consult_doctors(session, at_noon) == []
        window = await next_consult_window(session, at_noon)
        assert window is not None
        assert window.starts_at == datetime(2026, 12, 7, 15, 0, tzinfo=tz)
        assert window.ends_at == datetime(2026, 12, 7, 17, 0, tzinfo=tz)
        assert window.doctor_ids == (uid,)
        late = await next_consult_window(session, datetime(2026, 12, 7, 21, 30, tzinfo=tz))
        assert late is not None and late.starts_at == datetime(2026, 12, 8, 9, 0, tzinfo=tz)


async def test_patients_go_to_the_least_loaded_doctor_with_room(app, client, world):
    first = await doctor_with_profile(client, world, capacity=1)
    second_auth = await new_doctor(app, client, "bacsi2")
    second = int((await client.get("/api/v1/users/me", headers=second_auth)).json()["id"])
    assert (await profile(client, world, second, capacity=5)).status_code == 201
    a = await register(client, world, phone="0903000001")
    b = await register(client, world, phone="0903000002")
    c = await register(client, world, phone="0903000003")
    assert [a["doctor_id"], b["doctor_id"], c["doctor_id"]] == [first, second, second]
    # Registered without SpO2 and respiratory rate: home care needs an assessment first.
    assert a["eligible"] is None and a["eligibility"]["decision"] == "needs_assessment"
    assert a["eligibility"]["rule_set_version"] == "byt-4038-2021"
    # The answer shows the next two check-ins of the schedule just made.
    assert [s["state"] for s in a["checkins_due"]] == ["due", "due"]
    mine = await client.get(f"{API}/patients", headers=world.auth("doctor"))
    assert [p["id"] for p in mine.json()] == [a["id"]]
    everyone = await client.get(f"{API}/patients?status=F0", headers=world.auth("supervisor"))
    assert {p["id"] for p in everyone.json()} == {a["id"], b["id"], c["id"]}


async def test_high_risk_check_in_alerts_the_doctor_live_and_opens_an_urgent_case_at_115(
    app, client, world
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
        http.stream("GET", "/api/v1/events", headers=world.auth("doctor")) as stream,
    ):
        lines = stream.aiter_lines()
        await _next_event(lines, "ready")
        r = await http.post(
            f"{API}/patients/{patient['id']}/checkins",
            json={"spo2": 93, "respiratory_rate": 26},
            headers=world.auth("doctor"),
        )
        assert r.status_code == 201, r.text
        result = r.json()
        assert result["risk"] == "high" and result["tier"] == "red"
        assert result["news2"] == 5 and result["severity"] == "severe"
        assert result["warning_signs"] == ["respiratory_rate", "spo2"]
        assert result["rule_set_version"].startswith("news2-rcp-2017;")
        alert = await _next_event(lines, "care.alert")
    assert alert["data"]["patient_id"] == patient["id"]
    assert alert["case_code"] == result["case_code"]
    # The urgent case stands in the 115 unit's inbox.
    async with app.state.hotline.unit_of_work() as session:
        from hotline.auth.service import create_user
        from hotline.directory.service import get_unit_by_code

        unit = await get_unit_by_code(session, "01-115")
        await create_user(
            session, username="dieuphoi115", password="mat-khau-an-toan-1022",
            role="unit_officer", unit_id=unit.id,
        )  # fmt: skip
    token = await client.post(
        "/api/v1/auth/token", data={"username": "dieuphoi115", "password": "mat-khau-an-toan-1022"}
    )
    officer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    case = await client.get(f"/api/v1/cases/{result['case_code']}", headers=officer)
    assert case.status_code == 200, case.text
    body = case.json()
    assert body["category"] == "cap_cuu" and body["urgent"] is True
    assert "SpO2 93%" in body["description"] and "nhịp thở 26/phút" in body["description"]
    # A second warning while that case is open alerts again without a second case.
    again = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={"spo2": 92},
        headers=world.auth("doctor"),
    )
    assert again.json()["case_code"] == result["case_code"]


async def test_operators_and_other_doctors_get_404_and_only_own_reads_are_logged(
    app, client, world
):
    doctor = await doctor_with_profile(client, world)
    other_auth = await new_doctor(app, client, "bacsi-khac")
    patient = await register(client, world)
    assert patient["doctor_id"] == doctor
    url = f"{API}/patients/{patient['id']}"
    for headers in (other_auth, world.auth("operator"), world.auth("officer")):
        for path in ("", "/checkins", "/fhir"):
            r = await client.get(url + path, headers=headers)
            assert r.status_code == 404, (path, r.text)
        r = await client.post(url + "/checkins", json={"spo2": 97}, headers=headers)
        assert r.status_code == 404
    assert (await client.get(f"{API}/patients", headers=world.auth("operator"))).status_code == 403
    async with app.state.hotline.unit_of_work() as session:
        assert (await session.scalars(select(PersonalDataRead))).all() == []
    r = await client.get(url, headers=world.auth("doctor"))
    assert r.status_code == 200 and r.json()["name"] == "Lê Văn Hùng"
    assert r.json()["checkin_link"].startswith("/cham-soc/")
    async with app.state.hotline.unit_of_work() as session:
        reads = (await session.scalars(select(PersonalDataRead))).all()
    assert [(x.user_id, x.contact_id, x.purpose) for x in reads] == [
        (doctor, patient["contact_id"], "care_patient")
    ]


async def test_a_check_in_needs_one_measure_in_range(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"{API}/patients/{patient['id']}/checkins"
    r = await client.post(url, json={"note": "gọi không nghe máy"}, headers=world.auth("doctor"))
    assert r.status_code == 422 and r.json()["field"] == "vitals"
    # An empty list of symptoms measures nothing either (it would mark the check-in done).
    r = await client.post(url, json={"symptoms": []}, headers=world.auth("doctor"))
    assert r.status_code == 422 and r.json()["field"] == "vitals"
    r = await client.post(url, json={"spo2": 130}, headers=world.auth("doctor"))
    assert r.status_code == 422 and r.json()["field"] == "spo2"
    r = await client.post(url, json={"consciousness": "sleepy"}, headers=world.auth("doctor"))
    assert r.status_code == 422 and r.json()["field"] == "consciousness"
    r = await client.post(url, json={"temperature": 37.2}, headers=world.auth("doctor"))
    assert r.status_code == 201 and r.json()["case_code"] is None


async def test_worklist_riskiest_first_and_missed_check_ins_remind_then_alert(app, client, world):
    await doctor_with_profile(client, world)
    calm = await register(client, world, phone="0903000011")
    worse = await register(client, world, phone="0903000012")
    for p, vitals in ((calm, {"spo2": 98}), (worse, {"spo2": 95, "pulse": 112})):
        r = await client.post(
            f"{API}/patients/{p['id']}/checkins", json=vitals, headers=world.auth("doctor")
        )
        assert r.status_code == 201
    work = (await client.get(f"{API}/worklist", headers=world.auth("doctor"))).json()
    assert [w["id"] for w in work] == [worse["id"], calm["id"]]
    assert work[0]["last_result"]["tier"] == "orange"
    # The calm patient's next check-in passes unanswered.
    async with app.state.hotline.unit_of_work() as session:
        slot = await session.scalar(
            select(CheckInSlot)
            .where(CheckInSlot.patient_id == calm["id"], CheckInSlot.state == SlotState.DUE)
            .order_by(CheckInSlot.due_at)
        )
        assert slot is not None
        due = slot.due_at
    async with live_events(app) as queue:
        async with app.state.hotline.unit_of_work() as session:
            await sweep_checkins(session, now=due + timedelta(minutes=61))
        async with app.state.hotline.unit_of_work() as session:
            await sweep_checkins(session, now=due + timedelta(minutes=181))
        await app.state.hotline.feed.sync()
        kinds = []
        while not queue.empty():
            e = queue.get_nowait()
            if e.data.get("patient_id") == calm["id"]:
                kinds.append((e.kind, e.data.get("reason")))
    assert kinds == [("care.reminder", None), ("care.alert", "missed_checkin")]
    async with app.state.hotline.unit_of_work() as session:
        assert (await session.get(CheckInSlot, slot.id)).state == SlotState.MISSED


async def test_fhir_bundle_validates(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={
            "spo2": 93, "respiratory_rate": 26, "pulse": 100, "temperature": 38.2,
            "systolic_bp": 120, "diastolic_bp": 80, "consciousness": "alert",
        },
        headers=world.auth("doctor"),
    )  # fmt: skip
    r = await client.get(f"{API}/patients/{patient['id']}/fhir", headers=world.auth("doctor"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+json"
    bundle = Bundle.model_validate(r.json())
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    for kind in ("Patient", "Condition", "Observation", "RiskAssessment", "Encounter", "Flag"):
        assert kind in kinds
    codes = {
        c["code"]
        for e in r.json()["entry"]
        if e["resource"]["resourceType"] == "Observation"
        for c in e["resource"]["code"]["coding"]
    }
    assert {"2708-6", "59408-5", "9279-1", "8867-4", "8310-5", "85354-9", "67775-7"} <= codes


async def test_facility_beds_kept_by_their_unit_and_admission_followed(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/facilities",
        json={"unit_id": world.units["ward_a"], "name": "Bệnh viện dã chiến số 1",
              "oxygen_beds_total": 10, "oxygen_beds_free": 0},
        headers=world.auth("admin"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    beds = {"oxygen_beds_free": 3}
    r = await client.patch(f"{API}/facilities/{fid}", json=beds, headers=world.auth("outsider"))
    assert r.status_code == 403
    r = await client.patch(f"{API}/facilities/{fid}", json=beds, headers=world.auth("officer"))
    assert r.status_code == 200 and r.json()["beds"]["oxygen"] == {"total": 10, "free": 3}
    r = await client.patch(
        f"{API}/facilities/{fid}", json={"oxygen_beds_free": 11}, headers=world.auth("officer")
    )
    assert r.status_code == 422 and r.json()["field"] == "oxygen_beds_free"
    free = await client.get(f"{API}/facilities?free=oxygen", headers=world.auth("doctor"))
    assert [f["id"] for f in free.json()] == [fid]
    assert (
        await client.get(f"{API}/facilities?free=icu", headers=world.auth("doctor"))
    ).json() == []
    r = await client.post(
        f"{API}/patients/{patient['id']}/admissions",
        json={"facility_id": fid, "bed_kind": "oxygen"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201 and r.json()["status"] == "requested"
    aid = r.json()["id"]
    inbox = await client.get(f"{API}/facilities/{fid}/admissions", headers=world.auth("officer"))
    assert [a["id"] for a in inbox.json()] == [aid]
    other = await client.get(f"{API}/facilities/{fid}/admissions", headers=world.auth("outsider"))
    assert other.status_code == 404
    for status in ("accepted", "admitted"):
        r = await client.post(
            f"{API}/admissions/{aid}", json={"status": status}, headers=world.auth("officer")
        )
        assert r.status_code == 200 and r.json()["status"] == status
    followed = await client.get(
        f"{API}/patients/{patient['id']}/admissions", headers=world.auth("doctor")
    )
    assert [a["status"] for a in followed.json()] == ["admitted"]
    after = (await client.get(f"{API}/facilities", headers=world.auth("doctor"))).json()
    assert after[0]["beds"]["oxygen"]["free"] == 2
    assert (await client.get(f"{API}/worklist", headers=world.auth("doctor"))).json() == []
    doctors = (await client.get(f"{API}/doctors", headers=world.auth("doctor"))).json()
    assert doctors[0]["patient_count"] == 0


async def test_the_patients_link_records_a_check_in_with_the_form_token(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    link = patient["checkin_link"]
    page = await client.get(link)
    assert page.status_code == 200 and "Gửi chỉ số sức khỏe cho bác sĩ" in page.text
    assert "Lê Văn Hùng" not in page.text and "0903" not in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = await client.post(link, data={"spo2": "97", "csrf": "forged"})
    assert r.status_code == 400
    r = await client.post(
        link, data={"spo2": "92", "temperature": "38,5", "symptoms": ["fever"], "csrf": csrf}
    )
    assert r.status_code == 200 and 'id="alert"' in r.text
    checkins = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert [(c["source"], c["spo2"], c["temperature"]) for c in checkins.json()] == [
        ("link", 92, 38.5)
    ]
    assert checkins.json()[0]["case_code"]
    forged = link[: link.rindex(".") + 1] + "AAAAAAAAAAAAAAAAAAAAAAAA"
    assert (await client.get(forged)).status_code == 404
    r = await client.post(f"{API}/patients/{patient['id']}/link", headers=world.auth("doctor"))
    assert r.status_code == 200 and r.json()["checkin_link"] != link
    assert (await client.get(link)).status_code == 404


async def test_a_link_with_digits_outside_ascii_is_not_found(client):
    # "²".isdigit() is true and int("²") fails: the public link page must not answer 500.
    assert (await client.get("/cham-soc/%C2%B2.abc")).status_code == 404


async def test_an_urgent_case_for_a_patient_isolating_outside_the_province_goes_to_the_site_115(
    app, client, world
):
    # Ward 25747 is in Hồ Chí Minh City; the site (Hà Nội) has no unit covering it. The
    # patient is told 115 was informed: the site's own 115 must have the case.
    await doctor_with_profile(client, world)
    patient = await register(client, world, ward_code="25747", phone="0903111007")
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={"spo2": 90, "respiratory_rate": 28},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201, r.text
    case = await client.get(f"/api/v1/cases/{r.json()['case_code']}", headers=world.auth("admin"))
    assert case.status_code == 200, case.text
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        from hotline.directory.service import get_unit_by_code

        unit = await get_unit_by_code(session, "01-115")
    assert [a["unit_id"] for a in case.json()["assignments"]] == [unit.id]


async def test_registering_someone_already_followed_is_a_conflict(app, client, world):
    await doctor_with_profile(client, world)
    first = await register(client, world, phone="0903111001")
    r = await client.post(
        f"{API}/patients",
        json=patient_body(phone="0903111001"),
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 409 and r.json()["field"] == "phone", r.text
    listed = await client.get(f"{API}/patients", headers=world.auth("supervisor"))
    assert [p["id"] for p in listed.json()] == [first["id"]]


async def test_registering_a_known_citizen_logs_the_read_of_their_record(app, client, world):
    # The registration's answer shows the existing contact's name and every phone of theirs.
    await doctor_with_profile(client, world)
    known = await register(client, world, phone="0903111055")
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(CarePatient).where(CarePatient.id == known["id"]).values(state="ended")
        )
        before = len((await session.scalars(select(PersonalDataRead))).all())
    again = await register(client, world, phone="0903111055")
    assert again["contact_id"] == known["contact_id"]
    async with app.state.hotline.unit_of_work() as session:
        reads = (await session.scalars(select(PersonalDataRead))).all()
    assert [(r.contact_id, r.purpose) for r in reads[before:]] == [
        (known["contact_id"], "care_register")
    ]
