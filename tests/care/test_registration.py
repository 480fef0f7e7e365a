"""Registering a person for care at home: warning signs measured at registration escalate as
a check-in's would, an unknown age needs a doctor, one followed patient per person even when
two registrations arrive at once, the duplicate's answer naming the patient only to those who
may see them, and an edit assessing eligibility again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, update

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.care.models import CarePatient
from hotline.care.registration import PatientIn, register_patient
from hotline.errors import Conflict
from tests.agents.test_agents import user_id
from tests.care.helpers import (
    API,
    doctor_with_profile,
    new_doctor,
    officer_115,
    patient_body,
    profile,
    register,
)
from tests.conftest import live_events, new_case_body
from tests.db.test_migrations import fresh_url  # noqa: F401 (the fixture)

pytestmark = pytest.mark.anyio

# Measured and well: eligible on 4038 for a vaccinated adult.
WELL = {"spo2": 98, "respiratory_rate": 16}


async def _alerts(app: Any, queue: Any) -> list[Any]:
    await app.state.hotline.feed.sync()
    found = []
    while not queue.empty():
        event = queue.get_nowait()
        if event.kind == "care.alert":
            found.append(event)
    return found


async def test_an_f1_registered_with_spo2_88_is_not_eligible_and_goes_to_115_at_once(
    app, client, world
):
    doctor = await doctor_with_profile(client, world)
    async with live_events(app) as queue:
        patient = await register(client, world, status="F1", phone="0903222001", spo2=88)
        alerts = await _alerts(app, queue)
    assert patient["eligible"] is False
    assert patient["eligibility"]["decision"] == "not_eligible"
    failed = [r for r in patient["eligibility"]["reasons"] if r["ok"] is False]
    assert [r["rule"] for r in failed] == ["warning_sign"]
    assert "SpO2 thấp" in failed[0]["message"]
    # Escalated as a check-in with that SpO2 would be: the alert, the urgent case at 115.
    assert patient["last_result"]["warning_signs"] == ["spo2"]
    code = patient["urgent_case_code"]
    assert code
    assert [(a.data["patient_id"], a.data["doctor_id"], a.case_code) for a in alerts] == [
        (patient["id"], doctor, code)
    ]
    case = await client.get(f"/api/v1/cases/{code}", headers=await officer_115(app, client))
    assert case.status_code == 200, case.text
    assert case.json()["category"] == "cap_cuu" and case.json()["urgent"] is True
    assert "SpO2 88%" in case.json()["description"]
    checkins = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert [(c["source"], c["spo2"], c["case_code"]) for c in checkins.json()] == [
        ("registration", 88, code)
    ]
    # The registration's measurement is no check-in of the schedule: both next ones stay due.
    assert len(patient["checkins_due"]) == 2


async def test_an_f0_registered_with_a_warning_symptom_is_not_eligible_and_escalated(
    app, client, world
):
    await doctor_with_profile(client, world)
    patient = await register(
        client, world, phone="0903222002", symptoms=["fever", "cyanosis"], **WELL
    )
    assert patient["eligible"] is False
    signs = [r["message"] for r in patient["eligibility"]["reasons"] if r["rule"] == "warning_sign"]
    assert signs == ["Dấu hiệu cảnh báo: tím tái — cần chuyển cấp cứu"]
    assert patient["urgent_case_code"]
    listed = await client.get(f"{API}/patients?tier=red", headers=world.auth("supervisor"))
    assert [p["id"] for p in listed.json()] == [patient["id"]]


async def test_a_registration_measured_well_is_eligible_and_opens_no_case(app, client, world):
    await doctor_with_profile(client, world)
    async with live_events(app) as queue:
        patient = await register(client, world, status="F1", phone="0903222003", **WELL)
        assert await _alerts(app, queue) == []
    assert patient["eligible"] is True and patient["urgent_case_code"] is None
    assert patient["last_result"]["tier"] == "green"
    plain = await register(client, world, status="F1", phone="0903222004")
    assert plain["eligible"] is True and plain["last_result"] is None


async def test_an_unknown_age_needs_a_doctors_assessment_not_a_refusal(client, world):
    await doctor_with_profile(client, world)
    unknown = await register(client, world, phone="0903222011", age=None, vaccine_doses=0, **WELL)
    assert unknown["eligible"] is None
    assert unknown["eligibility"]["decision"] == "needs_assessment"
    (reason,) = [r for r in unknown["eligibility"]["reasons"] if r["ok"] is None]
    assert reason["rule"] == "vaccination_or_low_risk"
    assert "chưa rõ tuổi" in reason["message"] and "cần bác sĩ đánh giá" in reason["message"]
    # The age decides nothing when another rule already does.
    sick = await register(
        client, world, phone="0903222012", age=None, vaccine_doses=0, comorbidities=["diabetes"],
        **WELL,
    )  # fmt: skip
    assert sick["eligible"] is False
    vaccinated = await register(client, world, phone="0903222013", age=None, **WELL)
    assert vaccinated["eligible"] is True


async def test_a_doctor_learns_nothing_of_a_number_another_doctor_follows(app, client, world):
    """Being followed at home is health data: a doctor who may not read that patient is
    answered for the number alone as for any number with a name on record, and refused with
    the person named with no word of a follow-up; their doctor and the coordinators are told
    which patient it is."""
    await doctor_with_profile(client, world)
    other_auth = await new_doctor(app, client, "bacsi2")
    other = int((await client.get("/api/v1/users/me", headers=other_auth)).json()["id"])
    assert (await profile(client, world, other)).status_code == 201
    first = await register(client, world, phone="0903222021", name="Nguyễn Thị Lan")
    assert first["doctor_id"] != other
    # A citizen on record who is not followed (a caller of the hotline).
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "Trần Văn Bình", "phone": "0903222099"}),
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    followed = await client.post(
        f"{API}/patients", json=patient_body(phone="0903222021", name=""), headers=other_auth
    )
    not_followed = await client.post(
        f"{API}/patients", json=patient_body(phone="0903222099", name=""), headers=other_auth
    )
    assert followed.status_code == not_followed.status_code == 422, followed.text
    assert followed.json() == not_followed.json()
    # Named, the person is picked: the registration is refused, saying only whom to ask.
    again = patient_body(phone="0903222021", name="Nguyễn Thị Lan")
    r = await client.post(f"{API}/patients", json=again, headers=other_auth)
    assert r.status_code == 409 and r.json()["field"] == "phone", r.text
    assert "điều phối viên" in r.json()["detail"]
    text = " ".join(str(v) for v in r.json().values())
    for personal in ("903222021", str(first["contact_id"]), "/cham-soc/", "theo dõi"):
        assert personal not in text
    assert "patient_id" not in r.json()
    # Their own doctor and the care coordinators are told which patient it is, the number
    # alone being enough.
    for body in (again, patient_body(phone="0903222021", name="")):
        for auth in (world.auth("doctor"), world.auth("supervisor")):
            r = await client.post(f"{API}/patients", json=body, headers=auth)
            assert r.status_code == 409 and r.json()["patient_id"] == first["id"], r.text
            assert "đang được theo dõi" in r.json()["detail"]


async def test_two_registrations_of_one_person_at_once_make_one_patient(
    app, client, world, database_url
):
    """Both pass the check for a followed patient before either commits (PostgreSQL: SQLite
    has one writer at a time); the second is answered as a repeated registration is."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs concurrent writers (PostgreSQL)")
    await doctor_with_profile(client, world)
    # A citizen on record, followed once and ended: both registrations find the contact.
    earlier = await register(client, world, phone="0903222031")
    state = app.state.hotline
    async with state.unit_of_work() as session:
        await session.execute(
            update(CarePatient).where(CarePatient.id == earlier["id"]).values(state="ended")
        )
    staff = Actor(
        user_id=await user_id(client, world, "supervisor"),
        username="supervisor",
        role=Role.SUPERVISOR,
    )
    data = PatientIn(status="F0", name="Lê Văn Hùng", phone="0903222031", age=30, vaccine_doses=2)
    first_added, second_checked = asyncio.Event(), asyncio.Event()
    outcome: dict[str, Any] = {}

    async def first() -> None:
        async with state.unit_of_work() as session:
            patient = await register_patient(session, actor=staff, data=data)
            outcome["first"] = patient.id
            first_added.set()
            # Still open while the second registration checks and inserts.
            await asyncio.wait_for(second_checked.wait(), 10)
            await asyncio.sleep(0.3)

    async def second() -> None:
        await asyncio.wait_for(first_added.wait(), 10)
        async with state.unit_of_work() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(CarePatient)
                .where(
                    CarePatient.contact_id == earlier["contact_id"], CarePatient.state != "ended"
                )
            )
            assert found == 0  # the first is not committed: the service's check passes too
            second_checked.set()
            try:
                await register_patient(session, actor=staff, data=data)
            except Conflict as refused:
                outcome["second"] = refused

    await asyncio.wait_for(asyncio.gather(first(), second()), 30)
    refused = outcome["second"]
    assert refused.field == "phone" and refused.extra == {"patient_id": outcome["first"]}
    async with state.unit_of_work(read_only=True) as session:
        followed = (
            await session.scalars(
                select(CarePatient.id).where(
                    CarePatient.contact_id == earlier["contact_id"], CarePatient.state != "ended"
                )
            )
        ).all()
    assert list(followed) == [outcome["first"]]


async def test_a_second_followed_patient_for_one_person_is_refused_by_the_database(
    app, client, world
):
    await doctor_with_profile(client, world)
    first = await register(client, world, phone="0903222041")
    from sqlalchemy.exc import IntegrityError

    async with app.state.hotline.unit_of_work() as session:
        row = await session.get(CarePatient, first["id"])
        assert row is not None
        copy = {c.key: getattr(row, c.key) for c in CarePatient.__table__.columns if c.key != "id"}
        session.add(CarePatient(**copy))
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_an_edit_of_what_decides_eligibility_assesses_it_again(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903222051", age=30, vaccine_doses=0, **WELL)
    assert patient["eligible"] is True
    url = f"{API}/patients/{patient['id']}"
    r = await client.patch(url, json={"comorbidities": ["diabetes"]}, headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["eligible"] is False
    failed = [x["rule"] for x in edited["eligibility"]["reasons"] if x["ok"] is False]
    assert failed == ["vaccination_or_low_risk"]
    trail = await client.get(f"{url}/changes", headers=world.auth("doctor"))
    (change,) = trail.json()
    assert change["before"]["eligibility"] == "eligible"
    assert change["after"]["eligibility"] == "not_eligible"
    # Back again; and an edit of the address alone leaves the assessment as it was.
    r = await client.patch(url, json={"comorbidities": []}, headers=world.auth("doctor"))
    assert r.json()["eligible"] is True
    r = await client.patch(url, json={"address": "Số 5 phố Kim Mã"}, headers=world.auth("doctor"))
    assert r.json()["eligible"] is True
    assert (
        "eligibility"
        not in (await client.get(f"{url}/changes", headers=world.auth("doctor"))).json()[0]["after"]
    )


async def test_the_measures_of_the_latest_check_ins_decide_eligibility_again(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903222052")
    assert patient["eligible"] is None  # nothing measured at registration
    url = f"{API}/patients/{patient['id']}"
    r = await client.post(f"{url}/checkins", json=WELL, headers=world.auth("doctor"))
    assert r.status_code == 201, r.text
    r = await client.post(f"{url}/checkins", json={"pulse": 80}, headers=world.auth("doctor"))
    assert r.status_code == 201, r.text
    r = await client.patch(url, json={"has_carer": True}, headers=world.auth("doctor"))
    assert r.json()["eligible"] is True, r.json()["eligibility"]


async def test_the_patient_page_shows_the_registration_check_in_and_the_new_assessment(
    client, world, signed_in
):
    await doctor_with_profile(client, world)
    patient = await register(client, world, phone="0903222061", age=30, vaccine_doses=0, **WELL)
    url = f"{API}/patients/{patient['id']}"
    r = await client.patch(url, json={"pregnant": True}, headers=world.auth("doctor"))
    assert r.json()["eligible"] is False
    async with signed_in("doctor") as c:
        page = await c.get(f"/care/patients/{patient['id']}")
        assert page.status_code == 200
        timeline = page.text[page.text.index('id="checkins"') :].split("</table>")[0]
        assert "Khi đăng ký" in timeline and "Người bệnh gửi" not in timeline
        trail = page.text[page.text.index("Lịch sử thay đổi") :]
        assert "Điều kiện theo dõi tại nhà" in trail and "Không đủ điều kiện" in trail
        c.cookies.set("lang", "en")
        page = await c.get(f"/care/patients/{patient['id']}")
        assert "At registration" in page.text and "Not eligible" in page.text


def test_the_migration_names_people_followed_twice_instead_of_failing_on_the_index(
    fresh_url: str,  # noqa: F811 (the fixture imported above)
) -> None:
    """Followed twice before the index (two registrations at once): the upgrade stops and
    says who; once one of them is ended it goes through."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from hotline.care.models import CareState, PatientStatus
    from hotline.contacts.models import Contact
    from hotline.db import utcnow
    from hotline.migrate import upgrade

    upgrade(fresh_url, "20261210_0041")
    patients = CarePatient.__table__

    async def run(statement: Any, rows: Any = None) -> Any:
        engine = create_async_engine(fresh_url)
        async with engine.begin() as conn:
            done = await (
                conn.execute(statement) if rows is None else conn.execute(statement, rows)
            )
            found = done.scalar_one() if done.returns_rows else None
        await engine.dispose()
        return found

    contact = asyncio.run(
        run(insert(Contact.__table__).values(name="Hai lần").returning(Contact.__table__.c.id))
    )
    row = {
        "contact_id": contact,
        "status": PatientStatus.F0,
        "comorbidities": [],
        "eligible": False,
        "eligibility": {},
        "state": CareState.ACTIVE,
        "risk_rank": 0,
        "slots_until": utcnow(),
        "link_nonce": "a",
        "created_at": utcnow(),
    }
    asyncio.run(run(insert(patients), [row, {**row, "link_nonce": "b"}]))
    with pytest.raises(RuntimeError, match=f"followed twice.*: {contact}$"):
        upgrade(fresh_url)
    asyncio.run(
        run(update(patients).where(patients.c.link_nonce == "b").values(state=CareState.ENDED))
    )
    upgrade(fresh_url)
