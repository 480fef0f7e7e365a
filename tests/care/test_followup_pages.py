"""The follow-up on the care pages over HTTP: eligibility's "needs assessment" shown as such,
the patient page's forms to end a follow-up, edit a patient and move them to another doctor
(shown to whom the services take them from, refusals next to the field), the trail of
changes, and the coordinators' tab of patients waiting for a doctor."""

from __future__ import annotations

import re

import pytest

from tests.auth.test_auth import _csrf_of
from tests.care.helpers import API, doctor_with_profile, new_doctor, profile, register
from tests.care.test_pages import reads

pytestmark = pytest.mark.anyio


def section(html: str, marker: str, end: str = "</section>") -> str:
    return html[html.index(marker) :].split(end)[0]


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="error[^"]*" id="{name}-error"[^>]*>(.*?)</p>', html)
    return found.group(1) if found else None


def trail_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-change="\d+" data-action="(\w+)"', html)


async def test_a_patient_needing_assessment_is_not_shown_as_not_eligible(client, world, signed_in):
    await doctor_with_profile(client, world)
    unmeasured = await register(client, world, phone="0903000041", name="Chưa Đo")
    refused = await register(
        client, world, phone="0903000042", name="Không Đủ", spo2=93, respiratory_rate=18
    )
    assert (unmeasured["eligible"], refused["eligible"]) == (None, False)
    async with signed_in("doctor") as c:
        page = await c.get(f"/care/patients/{unmeasured['id']}")
        shown = section(page.text, '<p id="eligible">', "</p>")
        assert "Cần đánh giá" in shown and "Không đủ điều kiện" not in shown
        reasons = section(page.text, '<ul class="reasons">', "</ul>")
        assert '<li class="unknown"><span aria-hidden="true">?</span> Chưa đo SpO2' in reasons
        page = await c.get(f"/care/patients/{refused['id']}")
        assert "Không đủ điều kiện" in section(page.text, '<p id="eligible">', "</p>")
        listed = await c.get("/care/patients")
        rows = {
            int(i): row
            for i, row in re.findall(r'<tr data-patient="(\d+)">(.*?)</tr>', listed.text, re.S)
        }
        assert "Cần đánh giá" in rows[unmeasured["id"]]
        assert "Không đủ điều kiện" not in rows[unmeasured["id"]]
        assert "Không đủ điều kiện tại nhà" in rows[refused["id"]]
        c.cookies.set("lang", "en")
        page = await c.get(f"/care/patients/{unmeasured['id']}")
        assert "Needs assessment" in section(page.text, '<p id="eligible">', "</p>")
        assert "SpO2 not measured: needs assessment before home care" in page.text


async def test_a_doctor_ends_a_follow_up_from_the_patient_page_with_its_reason(
    app, client, world, signed_in
):
    doctor = await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        form = section(page.text, 'id="end-form"', "</form>")
        assert re.findall(r'<option value="(\w+)"', form) == [
            "recovered", "hospitalised", "died", "moved", "other",
        ]  # fmt: skip
        assert "Chuyển viện, nhập viện" in form and "Tử vong" in form
        csrf = _csrf_of(page.text)
        # No reason chosen: said next to the select, the note kept.
        r = await c.post(f"{url}/end", data={"csrf": csrf, "reason": "", "note": "Đã khỏe"})
        assert r.status_code == 422
        assert field_error(r.text, "end_reason") == "Chọn lý do kết thúc theo dõi"
        assert ">Đã khỏe</textarea>" in r.text
        # A reason the service does not know: its refusal, next to the select; the page
        # shown again is a read of the patient, logged as the page's.
        before = len(await reads(app, doctor))
        r = await c.post(f"{url}/end", data={"csrf": csrf, "reason": "cured"})
        assert r.status_code == 422 and "Lý do phải là một trong" in field_error(
            r.text, "end_reason"
        )
        new = (await reads(app, doctor))[before:]
        assert [row.purpose for row in new] == ["care_patient"]
        r = await c.post(f"{url}/end", data={"csrf": "stale", "reason": "recovered"})
        assert r.status_code == 400 and field_error(r.text, "end_form")
        r = await c.post(
            f"{url}/end",
            data={"csrf": csrf, "reason": "recovered", "note": "Test nhanh âm tính"},
        )
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=ended#done"
        page = await c.get(r.headers["location"])
        assert "Đã kết thúc theo dõi người bệnh." in section(page.text, 'id="done"', "</p>")
        ended = section(page.text, 'id="ended"')
        assert 'id="end-reason">Khỏi bệnh</b>' in ended and "Test nhanh âm tính" in ended
        # Nothing more to end or edit: the forms are gone.
        assert 'id="end-form"' not in page.text and 'id="edit-form"' not in page.text
        assert trail_rows(page.text) == ["end"]
        trail = section(page.text, 'id="trail"', "</table>")
        assert "Kết thúc theo dõi" in trail and "Khỏi bệnh" in trail
        # A stale page's second submission: the service's refusal, shown on the form.
        r = await c.post(f"{url}/end", data={"csrf": csrf, "reason": "died"})
        assert r.status_code == 409
        assert "Đã kết thúc theo dõi người bệnh này" in r.text
    api = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("doctor"))
    assert (api.json()["state"], api.json()["end_reason"]) == ("ended", "recovered")


async def test_the_edit_form_names_each_refusal_and_puts_the_change_on_the_trail(
    client, world, signed_in
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await register(client, world, phone="0987 111 222", name="Người Khác")
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        form = section(page.text, 'id="edit-form"', "</form>")
        assert 'value="Số 3 phố Đội Cấn"' in form and 'value="00004"' in form
        csrf = _csrf_of(page.text)
        typed = {
            "csrf": csrf,
            "name": "Lê Văn Hùng",
            "address": "Số 8 ngõ 2 Kim Mã",
            "ward_code": "00004",
            "comorbidities": ["diabetes", "hiv"],
        }
        r = await c.post(f"{url}/edit", data={**typed, "phone": "12"})
        assert r.status_code == 422 and field_error(r.text, "edit_phone"), r.text
        kept = section(r.text, 'id="edit-form"', "</form>")
        assert 'value="Số 8 ngõ 2 Kim Mã"' in kept and 'value="12"' in kept
        assert 'value="hiv" checked' in kept and 'value="cancer" checked' not in kept
        assert 'id="edit_phone" name="phone"' in kept and 'aria-invalid="true"' in kept
        r = await c.post(f"{url}/edit", data={**typed, "phone": "0987111222"})
        assert r.status_code == 409
        assert field_error(r.text, "edit_phone") == "Số điện thoại này thuộc về người khác"
        r = await c.post(f"{url}/edit", data={**typed, "ward_code": "99999"})
        assert r.status_code == 422 and field_error(r.text, "edit_ward_code"), r.text
        r = await c.post(f"{url}/edit", data={**typed, "phone": "0987 654 321"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=edited#done"
        page = await c.get(r.headers["location"])
        assert "Đã lưu thay đổi thông tin người bệnh." in page.text
        assert "+84987654321" in section(page.text, 'id="patient-title"')
        assert trail_rows(page.text) == ["edit"]
        trail = section(page.text, 'id="trail"', "</table>")
        assert "Số 3 phố Đội Cấn → <b>Số 8 ngõ 2 Kim Mã</b>" in trail
        assert "<b>Đái tháo đường, HIV/AIDS</b>" in trail and "+84987654321" in trail
    api = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("doctor"))
    assert api.json()["comorbidities"] == ["diabetes", "hiv"]


async def test_only_a_coordinator_gets_the_reassign_form_and_moves_the_patient(
    app, client, world, signed_in
):
    doctor = await doctor_with_profile(client, world)
    other_auth = await new_doctor(app, client, "bacsi2")
    other = int((await client.get("/api/v1/users/me", headers=other_auth)).json()["id"])
    assert (await profile(client, world, other)).status_code == 201
    patient = await register(client, world, doctor_id=doctor)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        assert 'id="reassign-form"' not in page.text
        # The service refuses a doctor; the page says so instead of failing.
        r = await c.post(
            f"{url}/reassign", data={"csrf": _csrf_of(page.text), "doctor_id": str(other)}
        )
        assert r.status_code == 403 and field_error(r.text, "reassign_form"), r.text
    async with signed_in("supervisor") as c:
        page = await c.get(url)
        form = section(page.text, 'id="reassign-form"', "</form>")
        assert re.findall(r'<option value="(\d+)"', form) == [str(other)]
        csrf = _csrf_of(page.text)
        r = await c.post(f"{url}/reassign", data={"csrf": csrf, "doctor_id": ""})
        assert r.status_code == 422 and field_error(r.text, "reassign_doctor_id") == "Chọn bác sĩ"
        r = await c.post(f"{url}/reassign", data={"csrf": csrf, "doctor_id": "999999"})
        assert r.status_code == 422 and field_error(r.text, "reassign_doctor_id"), r.text
        r = await c.post(f"{url}/reassign", data={"csrf": csrf, "doctor_id": str(other)})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=reassigned#done"
        page = await c.get(r.headers["location"])
        assert "Đã chuyển người bệnh cho bác sĩ khác." in page.text
        assert trail_rows(page.text) == ["reassign"]
        trail = section(page.text, 'id="trail"', "</table>")
        assert "Chuyển bác sĩ" in trail and "bacsi2" in trail
    async with signed_in("doctor") as c:
        assert (await c.get(url)).status_code == 404


async def test_coordinators_have_a_tab_of_the_patients_waiting_for_a_doctor(
    client, world, signed_in
):
    await doctor_with_profile(client, world, capacity=1)
    await register(client, world, phone="0903000051")
    waiting = await register(client, world, phone="0903000052", name="Người Chờ")
    assert waiting["doctor_id"] is None
    async with signed_in("supervisor") as c:
        page = await c.get("/care/patients")
        tab = section(page.text, 'id="tab-waiting"', "</a>")
        assert 'href="/care/patients?unassigned=1&amp;state=active"' in page.text
        assert 'id="waiting-count">1<' in tab
        waiting_page = await c.get("/care/patients?unassigned=1&state=active")
        assert 'id="tab-waiting" aria-current="page"' in waiting_page.text
        rows = re.findall(r'<tr data-patient="(\d+)">(.*?)</tr>', waiting_page.text, re.S)
        assert [int(i) for i, _row in rows] == [waiting["id"]]
        assert f'href="/care/patients/{waiting["id"]}#reassign-title"' in rows[0][1]
        patient_page = await c.get(f"/care/patients/{waiting['id']}")
        assert 'id="reassign-form"' in patient_page.text
    async with signed_in("doctor") as c:
        page = await c.get("/care/patients")
        assert 'id="tab-waiting"' not in page.text
