"""A doctor in a real browser: signs in, lands on the worklist, edits a patient's address and
records a check-in during a call on the patient page, and sees the high-risk result and the
urgent case it opened (its code and status: the case is the 115 unit's). A supervisor lands
on the care alerts and sees a new one arrive live."""

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
    from hotline.care.registration import PatientIn, register_patient

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
    # Not measured at registration, then measured well at the first check-in: eligible.
    assert page.locator("#eligible").inner_text() == "Đủ điều kiện"
    # The patient moved: the doctor edits the address, the change goes on the trail.
    page.fill("#edit_address", "Số 8 ngõ 2 Kim Mã")
    page.click("#edit-save")
    page.wait_for_url(re.compile(r".*\?done=edited"))
    assert "Số 3 phố Đội Cấn → Số 8 ngõ 2 Kim Mã" in page.locator("#trail").inner_text()
    page.fill("#spo2", "93")
    page.fill("#respiratory_rate", "26")
    page.fill("#note", "Gọi lúc 9 giờ: khó thở hơn hôm qua")
    page.click("#record")
    page.wait_for_selector("#done")
    latest = page.locator("#latest")
    assert page.locator("#latest-risk").inner_text() == "Nguy cơ cao"
    # A warning sign on a check-in: no longer eligible for care at home, at once.
    assert page.locator("#eligible").inner_text() == "Không đủ điều kiện"
    assert "Đỏ" in latest.inner_text()
    code = page.locator("#latest-case code").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{6,20}", code), code
    # The 115 unit's case, which the doctor may not open: its code and status as text.
    assert page.locator("#latest-case a").count() == 0
    assert page.locator("#latest-case .case-status").inner_text() == "Đã chuyển đơn vị"
    assert page.locator("#chart-spo2 circle").count() == 2
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "care-patient.png"), full_page=True)

    # Back on the worklist, the patient now comes first, in red.
    page.goto(live_server.url + "/care")
    first = page.locator("#worklist-rows tr").first
    assert first.get_attribute("data-patient") == str(patient)
    assert "Đỏ" in first.inner_text()


async def _warning_sign(settings, patient_id: int) -> str:  # type: ignore[no-untyped-def]
    """The doctor records a check-in with warning signs (another process: the worker's or
    the API's); the urgent case's code."""
    from hotline.auth.service import actor_of
    from hotline.care.checkins import CheckInData, record_by_doctor
    from hotline.care.models import CarePatient
    from hotline.events import committed

    engine = create_engine(settings.effective_database_url)
    maker = make_sessionmaker(engine, Site.from_settings(settings))
    async with committed(maker, None) as s:
        patient = await s.get(CarePatient, patient_id)
        assert patient is not None and patient.doctor_id is not None
        from hotline.auth.models import User

        doctor = await s.get(User, patient.doctor_id)
        done = await record_by_doctor(
            s,
            actor=actor_of(doctor),
            patient_id=patient_id,
            data=CheckInData(spo2=92, respiratory_rate=27, symptoms=("cyanosis",)),
        )
        code = str(done.case_code)
    await engine.dispose()
    return code


@pytest.mark.e2e
def test_a_supervisor_sees_a_new_care_alert_arrive_live(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    patient = live_server.run(_seed(settings))
    live_server.run(_supervisor(settings))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live_server.url + "/login")
    page.fill("#username", "truongca")
    page.fill("#password", "truongca-1022")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    # Home care for a coordinator starts from the alerts.
    page.goto(live_server.url + "/care")
    page.wait_for_url(live_server.url + "/care/alerts")
    page.wait_for_selector("#main[data-live='1']")
    assert page.locator("#alerts-empty").is_visible()

    code = live_server.run(_warning_sign(settings, patient))
    row = page.locator(f"#alert-warning_signs-{patient}")
    row.wait_for()
    assert page.locator("#care-alert").is_visible()
    text = row.inner_text()
    assert "Lê Văn Hùng" in text and "Tím tái" in text and "SpO2 thấp" in text
    assert row.locator(f"a[href='/cases/{code}']").count() == 1
    assert page.locator("#alert-count b").inner_text() == "1"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "care-alerts.png"), full_page=True)
    row.locator(f"a[href='/care/patients/{patient}']").click()
    page.wait_for_url(f"{live_server.url}/care/patients/{patient}")
    # The coordinator may open the urgent case; the reassign form offers the proactive-care
    # doctors only, a full one greyed.
    assert page.locator(f"#latest-case a[href='/cases/{code}']").count() == 1
    options = page.locator("#reassign_doctor_id option")
    assert options.all_inner_texts()[1:] == ["BS. Trần Đầy (0/0 người bệnh, đã đủ)"]
    assert options.nth(1).is_disabled()


async def _supervisor(settings) -> None:  # type: ignore[no-untyped-def]
    """A supervisor; and two more doctors: a proactive one without room, a consult one."""
    from hotline.auth.service import SYSTEM, create_user
    from hotline.care.doctors import DoctorIn, save_doctor

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s, username="truongca", password="truongca-1022", role="supervisor",
            full_name="Trưởng ca Trần Bình",
        )  # fmt: skip
        for username, name, data in (
            ("bacsi02", "BS. Trần Đầy", DoctorIn(years_experience=3, groups=("proactive",),
                                                capacity=0)),
            ("bacsi03", "BS. Lê Tư Vấn", DoctorIn(years_experience=9, groups=("consult",))),
        ):  # fmt: skip
            user = await create_user(
                s, username=username, password=f"{username}-1022", role="doctor", full_name=name
            )
            await save_doctor(s, actor=SYSTEM, user_id=user.id, data=data, create=True)
    await engine.dispose()


@pytest.mark.e2e
def test_the_check_in_form_shows_every_mistake_in_its_field_with_the_focus_on_the_first(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    patient = live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/login")
    page.fill("#username", "bacsi01")
    page.fill("#password", "bacsi01-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/care")
    page.goto(f"{live_server.url}/care/patients/{patient}")
    page.fill("#respiratory_rate", "nhanh")
    page.fill("#pulse", "400")
    page.fill("#temperature", "37,8")
    page.select_option("#consciousness", "voice")
    page.click("#record")
    page.wait_for_selector("#respiratory_rate-error")
    assert page.evaluate("document.activeElement.id") == "respiratory_rate"
    assert page.locator("#pulse-error").is_visible()
    assert page.locator("#consciousness").input_value() == "voice"
    assert page.locator("#temperature").input_value() == "37,8"
    # Each message sits under its own input, in its own column of the grid.
    for name in ("respiratory_rate", "pulse"):
        field = page.locator(f"#{name}").bounding_box()
        error = page.locator(f"#{name}-error").bounding_box()
        assert field is not None and error is not None
        assert error["y"] >= field["y"] + field["height"] - 1
        assert abs(error["x"] - field["x"]) < 2, name
    assert page.locator(".vitals > .field").count() == 7
    if SCREENSHOTS:
        page.locator("#checkin-form").screenshot(path=str(SCREENSHOTS / "care-checkin-errors.png"))
    # "No symptoms now" with a symptom ticked: named under the symptoms, focused there; alone,
    # recorded as none (nothing carried forward).
    page.fill("#respiratory_rate", "18")
    page.fill("#pulse", "80")
    page.get_by_label("Không có triệu chứng nào").check()
    page.check("input[value=fever]")
    page.click("#record")
    page.wait_for_selector("#symptoms-error")
    assert page.evaluate("document.activeElement.id") == "no_symptoms"
    page.uncheck("input[value=fever]")
    page.click("#record")
    page.wait_for_selector("#done")
    assert page.locator("#latest-carried").count() == 0


async def _link(settings, patient_id: int) -> str:  # type: ignore[no-untyped-def]
    from hotline.care.links import link_of
    from hotline.care.models import CarePatient

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s:
        patient = await s.get(CarePatient, patient_id)
        assert patient is not None
        link = link_of(s, patient)
    await engine.dispose()
    return link


@pytest.mark.e2e
def test_the_patients_link_form_keeps_every_answer_on_a_mistake(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    patient = live_server.run(_seed(settings))
    link = live_server.run(_link(settings, patient))
    page = browser.new_page(viewport={"width": 420, "height": 900})
    page.goto(live_server.url + link)
    page.fill("#spo2", "9x")
    page.fill("#temperature", "38,2")
    page.select_option("#consciousness", "confusion")
    page.check("input[value=fever]")
    page.check("input[value=breathlessness]")
    page.click("button[type=submit]")
    page.wait_for_selector("#spo2-error:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "spo2"
    assert page.locator("#temperature").input_value() == "38,2"
    assert page.locator("#consciousness").input_value() == "confusion"
    assert page.locator("input[value=fever]").is_checked()
    assert page.locator("input[value=breathlessness]").is_checked()
    assert not page.locator("input[value=cyanosis]").is_checked()
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "care-link-errors.png"), full_page=True)
    # "No symptoms now" with symptoms ticked: the mistake under the symptoms, focused there.
    page.fill("#spo2", "97")
    page.get_by_label("Không có triệu chứng nào").check()
    page.click("button[type=submit]")
    page.wait_for_selector("#symptoms-error:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "no_symptoms"
    assert page.locator("input[value=fever]").is_checked()
    # Unticked, "no symptoms" alone is sent: the symptoms are recorded as none.
    page.uncheck("input[value=fever]")
    page.uncheck("input[value=breathlessness]")
    page.click("button[type=submit]")
    page.wait_for_selector("#sent")
    assert page.locator("#carried").count() == 0
