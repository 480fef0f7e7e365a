"""A doctor in a real browser: signs in, lands on the worklist, records a check-in during a
call on the patient page and sees the high-risk result and the urgent case it opened."""

from __future__ import annotations

import re

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.e2e.test_pages import SCREENSHOTS


async def _seed(settings) -> int:  # type: ignore[no-untyped-def]
    """A proactive-care doctor following two patients, one of them already checked in."""
    from hotline.auth.service import SYSTEM, actor_of, create_user
    from hotline.care.checkins import CheckInData, record_by_doctor
    from hotline.care.doctors import DoctorIn, save_doctor
    from hotline.care.service import PatientIn, register_patient

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        doctor = await create_user(
            s, username="bacsi01", password="bacsi01-1022", role="doctor", full_name="BS. Nguyễn An"
        )
        await save_doctor(
            s,
            actor=SYSTEM,
            user_id=doctor.id,
            data=DoctorIn(years_experience=7, groups=("proactive",)),
            create=True,
        )
        patient = await register_patient(
            s,
            actor=SYSTEM,
            data=PatientIn(
                status="F0", name="Lê Văn Hùng", phone="0903123456", age=58,
                comorbidities=("diabetes",), vaccine_doses=2, ward_code="00004",
                address="Số 3 phố Đội Cấn", doctor_id=doctor.id,
            ),
        )  # fmt: skip
        other = await register_patient(
            s,
            actor=SYSTEM,
            data=PatientIn(status="F0", name="Phạm Thị Mai", phone="0903123457", age=34,
                           doctor_id=doctor.id),
        )  # fmt: skip
        await record_by_doctor(
            s,
            actor=actor_of(doctor),
            patient_id=patient.id,
            data=CheckInData(spo2=97, respiratory_rate=18, pulse=86, temperature=37.4),
        )
        await record_by_doctor(
            s,
            actor=actor_of(doctor),
            patient_id=other.id,
            data=CheckInData(spo2=96, respiratory_rate=19, pulse=78),
        )
        patient_id = int(patient.id)
    await engine.dispose()
    return patient_id


@pytest.mark.e2e
def test_a_doctor_records_a_check_in_and_sees_high_risk_and_the_urgent_case(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    patient = live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/login")
    page.fill("#username", "bacsi01")
    page.fill("#password", "bacsi01-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/care")
    rows = page.locator("#worklist-rows tr")
    assert rows.count() == 2
    page.wait_for_selector("#main[data-live='1']")
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "care-worklist.png"), full_page=True)

    page.locator(f"#patient-{patient} a").click()
    page.wait_for_url(f"{live_server.url}/care/patients/{patient}")
    page.fill("#spo2", "93")
    page.fill("#respiratory_rate", "26")
    page.fill("#note", "Gọi lúc 9 giờ: khó thở hơn hôm qua")
    page.click("#record")
    page.wait_for_selector("#done")
    latest = page.locator("#latest")
    assert page.locator("#latest-risk").inner_text() == "Nguy cơ cao"
    assert "Đỏ" in latest.inner_text()
    code = page.locator("#latest-case code").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{6,20}", code), code
    assert page.locator("#chart-spo2 circle").count() == 2
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "care-patient.png"), full_page=True)

    # Back on the worklist, the patient now comes first, in red.
    page.goto(live_server.url + "/care")
    first = page.locator("#worklist-rows tr").first
    assert first.get_attribute("data-patient") == str(patient)
    assert "Đỏ" in first.inner_text()
