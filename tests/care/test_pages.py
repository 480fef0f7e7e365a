"""Home care's pages over HTTP, signed in with the page cookie: the doctor's worklist, the
patient page (charts, results, the check-in form), the patient list, who sees what."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotline.care.models import CheckInSlot, SlotState
from hotline.contacts.models import PersonalDataRead
from tests.auth.test_auth import _csrf_of
from tests.care.helpers import API, doctor_with_profile, new_doctor, register
from tests.conftest import SITE_TZ

pytestmark = pytest.mark.anyio


async def check_in(client: Any, world: Any, patient: dict[str, Any], **vitals: Any) -> Any:
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins", json=vitals, headers=world.auth("doctor")
    )
    assert r.status_code == 201, r.text
    return r.json()


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="patient-\d+" data-patient="(\d+)"', html)]


async def reads(app: Any, user: int) -> list[PersonalDataRead]:
    async with app.state.hotline.unit_of_work() as session:
        rows = await session.scalars(
            select(PersonalDataRead)
            .where(PersonalDataRead.user_id == user)
            .order_by(PersonalDataRead.id)
        )
        return list(rows.all())


async def test_a_doctor_lands_on_the_worklist_riskiest_first(app, client, world, signed_in):
    doctor = await doctor_with_profile(client, world)
    calm = await register(client, world, phone="0903000001", name="Người Khỏe")
    worse = await register(client, world, phone="0903000002", name="Người Nặng")
    middle = await register(client, world, phone="0903000003", name="Người Vừa")
    await check_in(client, world, calm, spo2=98, respiratory_rate=16)
    await check_in(client, world, worse, spo2=93, respiratory_rate=26)
    await check_in(client, world, middle, spo2=96, respiratory_rate=18)
    async with signed_in("doctor") as c:
        start = await c.get("/", follow_redirects=False)
        assert start.status_code == 303 and start.headers["location"] == "/care"
        page = await c.get("/care")
        assert page.status_code == 200, page.text
        assert 'href="/care">Theo dõi tại nhà</a>' in page.text
        assert row_ids(page.text) == [worse["id"], middle["id"], calm["id"]]
        worst_row = page.text[page.text.index(f'id="patient-{worse["id"]}"') :]
        assert 'class="tier-row-red' in page.text
        assert "tag tier tier-red" in worst_row.split("</tr>")[0]
        assert "SpO2 thấp" in worst_row.split("</tr>")[0]
        assert re.search(r'id="count-high"><b>1</b>', page.text)
        assert "/static/care/live.js" in page.text
        # The rows alone, as the live refresh fetches them.
        rows = await c.get("/care/worklist")
        assert rows.status_code == 200
        assert row_ids(rows.text) == row_ids(page.text)
    logged = [r for r in await reads(app, doctor) if r.purpose == "care_worklist"]
    assert {r.contact_id for r in logged} >= {calm["contact_id"], worse["contact_id"]}
    anonymous = await client.get("/care/worklist")
    assert anonymous.status_code == 401


async def test_missed_and_late_check_ins_are_highlighted(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    today = datetime.now(SITE_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    async with app.state.hotline.unit_of_work() as session:
        session.add_all(
            [
                CheckInSlot(
                    patient_id=patient["id"],
                    due_at=today + timedelta(minutes=1),
                    state=SlotState.MISSED,
                ),
                CheckInSlot(
                    patient_id=patient["id"],
                    due_at=today + timedelta(minutes=2),
                    state=SlotState.DUE,
                ),
            ]
        )
    async with signed_in("doctor") as c:
        page = await c.get("/care")
    row = page.text[page.text.index(f'id="patient-{patient["id"]}"') :].split("</tr>")[0]
    assert "missed" in row.split(">")[0]
    assert 'class="slot slot-missed">00:01 Bỏ lỡ' in row
    assert 'class="slot slot-due slot-late">00:02 Chờ đo · đến giờ' in row
    assert re.search(r'id="count-missed"><b>1</b>', page.text)


async def test_the_patient_page_charts_the_vitals_and_shows_each_result(
    app, client, world, signed_in
):
    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world, comorbidities=["diabetes"])
    await check_in(client, world, patient, spo2=97, respiratory_rate=18, pulse=80)
    high = await check_in(client, world, patient, spo2=93, respiratory_rate=26, pulse=104)
    async with signed_in("doctor") as c:
        before = len(await reads(app, doctor))
        page = await c.get(f"/care/patients/{patient['id']}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Lê Văn Hùng" in html and "Số 3 phố Đội Cấn" in html
    # Eligibility with its reasons and rule set.
    eligibility = html[html.index('id="eligibility-title"') :].split("</section>")[0]
    assert "byt-4038-2021" in eligibility, eligibility
    # One chart per measure taken, every value a point.
    spo2 = html[html.index('id="chart-spo2"') :].split("</figure>")[0]
    assert re.findall(r'data-value="(\d+)"', spo2) == ["97", "93"]
    assert "<polyline" in spo2
    assert 'id="chart-pulse"' in html and 'id="chart-temperature"' not in html
    # The latest result first, with its versions and the urgent case it opened.
    latest = html[html.index('id="latest"') :].split("</section>")[0]
    assert "Nguy cơ cao" in latest and 'id="latest-news2">6<' in latest
    assert high["case_code"] in latest and high["rule_set_version"] in latest
    assert len(re.findall(r'<tr data-checkin="\d+"', html)) == 2
    assert f'href="/api/v1/care/patients/{patient["id"]}/fhir"' in html
    new = (await reads(app, doctor))[before:]
    assert [(r.purpose, r.contact_id) for r in new] == [("care_patient", patient["contact_id"])]


async def test_the_check_in_form_records_one_and_shows_the_result(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        r = await c.post(
            f"{url}/checkins",
            data={
                "csrf": _csrf_of(page.text),
                "spo2": "93",
                "respiratory_rate": "26",
                "temperature": "37,8",
                "symptoms": ["fever", "breathlessness"],
                "note": "Gọi lúc 9 giờ, người nhà nghe máy",
            },
        )
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=checkin#latest"
        shown = await c.get(f"{url}?done=checkin")
    found = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    [checkin] = found.json()
    assert checkin["source"] == "doctor" and checkin["temperature"] == 37.8
    assert checkin["symptoms"] == ["breathlessness", "fever"]
    assert checkin["risk"] == "high" and checkin["case_code"]
    assert 'id="done"' in shown.text and "Nguy cơ cao" in shown.text
    assert checkin["case_code"] in shown.text
    assert "Gọi lúc 9 giờ, người nhà nghe máy" in shown.text


async def test_the_check_in_form_names_each_mistake_and_keeps_what_was_typed(
    client, world, signed_in
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        csrf = _csrf_of(page.text)
        typed = {"csrf": csrf, "spo2": "9x", "pulse": "88", "consciousness": "voice"}
        typed |= {"symptoms": ["cyanosis"], "note": "ghi chú bác sĩ"}
        r = await c.post(f"{url}/checkins", data=typed)
        assert r.status_code == 422
        assert re.search(r'id="spo2-error">Cần nhập một số<', r.text)
        assert 'name="spo2" maxlength="6" value="9x" aria-invalid="true"' in r.text
        assert 'name="pulse" maxlength="6" value="88"' in r.text
        assert '<option value="voice" selected>' in r.text
        assert 'value="cyanosis" checked' in r.text and "ghi chú bác sĩ</textarea>" in r.text
        # Out of range: the service's refusal, next to its field.
        r = await c.post(f"{url}/checkins", data={**typed, "spo2": "120"})
        assert r.status_code == 422
        assert re.search(r'id="spo2-error">Giá trị ngoài khoảng 50–100<', r.text)
        # Nothing measured: on top of the form.
        r = await c.post(f"{url}/checkins", data={"csrf": csrf})
        assert r.status_code == 422 and 'id="form-error"' in r.text
        assert "Cần ít nhất một chỉ số" in r.text
        # A form without the session's token records nothing.
        r = await c.post(f"{url}/checkins", data={"spo2": "95"})
        assert r.status_code == 400 and 'value="95"' in r.text
    found = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert found.json() == []


async def test_another_doctor_gets_404_and_an_operator_is_refused(app, client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await new_doctor(app, client, "bacsi2")
    url = f"/care/patients/{patient['id']}"
    async with signed_in("bacsi2") as c:
        page = await c.get(url)
        assert page.status_code == 404
        assert "Lê Văn Hùng" not in page.text
        own = await c.get("/care")
        r = await c.post(f"{url}/checkins", data={"csrf": _csrf_of(own.text), "spo2": "95"})
        assert r.status_code == 404
        assert row_ids(own.text) == []
    async with signed_in("operator") as c:
        assert (await c.get("/care")).status_code == 403
        assert (await c.get("/care/patients")).status_code == 403
        page = await c.get(url)
        assert page.status_code == 404 and "Lê Văn Hùng" not in page.text
        assert 'href="/care"' not in (await c.get("/")).text
    found = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert found.json() == []


async def test_supervisors_see_every_patient_with_filters(client, world, signed_in):
    await doctor_with_profile(client, world)
    red = await register(client, world, phone="0903000001", name="Người Nặng")
    green = await register(client, world, phone="0903000002", name="Người Khỏe")
    await check_in(client, world, red, spo2=92)
    await check_in(client, world, green, spo2=98)
    async with signed_in("supervisor") as c:
        start = await c.get("/care", follow_redirects=False)
        assert start.status_code == 303 and start.headers["location"] == "/care/alerts"
        everyone = await c.get("/care/patients")
        assert 'href="/care/patients">Người bệnh</a>' in everyone.text
        ids = [int(i) for i in re.findall(r'<tr data-patient="(\d+)"', everyone.text)]
        assert ids == [red["id"], green["id"]]
        reds = await c.get("/care/patients?tier=red&status=F0")
        assert [int(i) for i in re.findall(r'<tr data-patient="(\d+)"', reds.text)] == [red["id"]]
        assert '<option value="red" selected>' in reds.text
        # A doctor filter of digits outside ASCII ("²".isdigit()) is ignored, not a 500.
        odd = await c.get("/care/patients?doctor=%C2%B2")
        assert odd.status_code == 200
        page = await c.get(f"/care/patients/{green['id']}")
        assert page.status_code == 200 and "Người Khỏe" in page.text


async def test_every_care_page_logs_its_read_of_the_patient(app, client, world, signed_in):
    from tests.web.test_personal_reads import CARE_PAGES, PERSONAL

    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        csrf = _csrf_of((await c.get("/care")).text)
        visits = {
            ("GET", "/care"): ("GET", "/care", None),
            ("GET", "/care/worklist"): ("GET", "/care/worklist", None),
            ("GET", "/care/patients"): ("GET", "/care/patients", None),
            ("GET", "/care/patients/{patient_id}"): ("GET", url, None),
            ("POST", "/care/patients/{patient_id}/checkins"): (
                "POST", f"{url}/checkins", {"csrf": csrf, "spo2": "92"}
            ),
            # After that check-in's warning sign: an alert standing.
            ("GET", "/care/alerts"): ("GET", "/care/alerts", None),
            ("GET", "/care/alerts/list"): ("GET", "/care/alerts/list", None),
            # The follow-up forms refused: the patient page shown again with the refusal.
            ("POST", "/care/patients/{patient_id}/edit"): (
                "POST", f"{url}/edit", {"csrf": csrf, "ward_code": "99999"}
            ),
            ("POST", "/care/patients/{patient_id}/reassign"): (
                "POST", f"{url}/reassign", {"csrf": csrf, "doctor_id": "abc"}
            ),
            ("POST", "/care/patients/{patient_id}/end"): (
                "POST", f"{url}/end", {"csrf": csrf, "reason": ""}
            ),
        }  # fmt: skip
        assert visits.keys() == CARE_PAGES
        for route, (method, path, form) in visits.items():
            before = len(await reads(app, doctor))
            r = await c.request(method, path, data=form)
            refused = route[1].endswith(("/edit", "/reassign", "/end"))
            assert r.status_code in ((422, 403) if refused else (200, 303)), (route, r.text)
            new = (await reads(app, doctor))[before:]
            assert (PERSONAL[route], patient["contact_id"]) in [
                (row.purpose, row.contact_id) for row in new
            ], (route, new)
