"""The staffing page and the volunteer form in a real browser: a shift lead reads the
forecast against the roster, looks at ×2, switches surge mode on, and approves a volunteer
who has just signed up on the portal after correcting a mistake."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.conftest import site_today
from tests.e2e.test_csp import _watch
from tests.e2e.test_pages import SCREENSHOTS
from tests.staffing.test_pages import call_rows


def _day_shape(slot: int) -> int:
    """A day at the line: quiet at night, busy mornings and afternoons."""
    if 16 <= slot < 24 or 27 <= slot < 34:
        return 9
    return 3 if 12 <= slot < 44 else 0


async def _seed(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import actor_of, create_user
    from hotline.calls.models import Call
    from hotline.reports.rebuild import rebuild_counters
    from hotline.staffing import service, volunteers
    from hotline.staffing.jobs import alert_unfilled
    from hotline.staffing.models import RosterEntry

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        lead = await create_user(
            s, username="truongca", password="truongca-1022", role="supervisor",
            full_name="Nguyễn Thị Lan",
        )  # fmt: skip
        names = ("Phạm Minh Đức", "Vũ Thu Trang", "Hoàng Văn Nam", "Đặng Thị Mai")
        operators = [
            await create_user(
                s, username=f"dtv0{i}", password=f"dtv0{i}-1022", role="operator", full_name=name
            )
            for i, name in enumerate(names, start=1)
        ]
        await s.execute(insert(Call), call_rows(21, _day_shape))
        await rebuild_counters(s)
        actor = actor_of(lead)
        shifts = await service.list_shifts(s, actor=actor)
        today = site_today()
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            for shift, people in zip(
                shifts, (operators[:3], operators[3:], operators[:1]), strict=True
            ):
                for person in people:
                    # The days already worked as a record (the service refuses ended shifts).
                    s.add(RosterEntry(day=day, shift_id=shift.id, user_id=person.id))
            await s.flush()
        entry = (
            await service.roster(s, start=today + timedelta(days=1), end=today + timedelta(days=1))
        )[0].people[0]
        await service.request_swap(
            s, actor=actor_of(operators[0]), entry_id=entry.entry_id, to_user_id=operators[3].id,
            reason="Đi khám bệnh",
        )  # fmt: skip
        await volunteers.sign_up(
            s, full_name="Trần Văn Bình", phone="0912000333",
            skills={"medical": True, "languages": ["vi", "en"], "channels": ["phone"]},
            note="Sinh viên y năm cuối", reserve=True,
        )  # fmt: skip
        await alert_unfilled(s, ahead=timedelta(hours=36))
    await engine.dispose()


@pytest.mark.e2e
def test_a_shift_lead_reads_the_forecast_switches_surge_on_and_approves_a_volunteer(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/login")
    page.fill("#username", "truongca")
    page.fill("#password", "truongca-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/staffing")
    assert page.inner_text("header nav a[href='/staffing']") == "Ca trực"
    assert page.locator("#forecast-table tbody tr").count() == 48
    short = page.locator("#forecast-table tr.short").count()
    assert short > 0
    assert page.inner_text("#forecast-model").startswith("Mô hình: Erlang C")
    assert page.locator("#roster-table tbody tr").count() == 3
    assert "Đi khám bệnh" in page.inner_text("#swaps")
    assert "Trần Văn Bình" in page.inner_text("#volunteers")

    # Calls ×2: more half-hours short of people, on the same day.
    page.click("#scale a:text-is('×2')")
    page.wait_for_url("**scale=2**")
    assert page.get_attribute("#scale a:text-is('×2')", "aria-current") == "true"
    assert page.locator("#forecast-table tr.short").count() >= short
    page.click("#scale a:text-is('×1')")
    page.wait_for_url("**scale=1**")

    page.fill("#surge-reason", "Tin nóng trên truyền hình")
    page.click("#surge-switch")
    page.wait_for_selector("#done:text-is('Đã bật chế độ quá tải.')")
    assert page.inner_text("#surge-state") == "Đang quá tải"
    assert "Tin nóng trên truyền hình" in page.inner_text("#surge-history")
    page.goto(live_server.url + "/staffing")
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "staffing.png"), full_page=True)
    assert errors == [] and outside == []

    # A citizen offers to volunteer on the portal; a wrong number is named by its field.
    citizen = browser.new_page(viewport={"width": 412, "height": 900})
    page_errors: list[str] = []
    citizen.on("pageerror", lambda e: page_errors.append(str(e)))
    citizen.goto(live_server.url + "/phan-anh")
    citizen.click("header nav a:text-is('Tình nguyện')")
    citizen.wait_for_url(live_server.url + "/tinh-nguyen")
    citizen.fill("#full_name", "Lê Thị Hoa")
    citizen.fill("#phone", "0912-ABC")
    citizen.check("#channel-zalo")
    citizen.click("#send")
    message = citizen.locator("#phone-error")
    message.wait_for(state="visible")
    assert message.inner_text() == "Số điện thoại chỉ gồm chữ số: “0912-ABC”"
    assert citizen.get_attribute("#phone", "aria-invalid") == "true"
    assert citizen.input_value("#full_name") == "Lê Thị Hoa"
    assert citizen.is_checked("#channel-zalo")
    citizen.fill("#phone", "0987 654 321")
    citizen.click("#send")
    citizen.wait_for_url(live_server.url + "/tinh-nguyen/da-gui")
    assert page_errors == []

    page.reload()
    row = page.locator("#volunteers tr[data-volunteer]", has_text="Lê Thị Hoa")
    row.locator("button:text-is('Duyệt')").click()
    page.wait_for_selector("#done:text-is('Đã duyệt tình nguyện viên.')")
    # No longer waiting: listed with the approved, the supervisor's approval as its proof.
    assert page.locator("#volunteers tr[data-volunteer]", has_text="Lê Thị Hoa").count() == 0
    approved = page.locator("#volunteers tr[data-approved]", has_text="Lê Thị Hoa")
    assert "số đã được trưởng ca xác nhận khi duyệt" in approved.inner_text()
