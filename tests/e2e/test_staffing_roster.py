"""A shift lead edits the roster on the staffing page in a real browser, on a 1366×768
screen: finds a call taker by typing part of their name (without accents), puts them and
an approved volunteer on tomorrow's afternoon shift, takes one off again with the button on
the place, and copies the week onto the next, reading what was copied and skipped. Then
the volunteer offers: the lead sees how each number was proved and that a number has
other offers, moves the volunteer to the account he answers calls with, picked by name;
the volunteer withdraws his own offer from his staffing page, and the lead withdraws the
other offer with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.conftest import site_today
from tests.e2e.test_csp import _watch
from tests.e2e.test_pages import SCREENSHOTS


async def _seed(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import actor_of, create_user
    from hotline.db import utcnow
    from hotline.staffing import service, volunteers
    from hotline.staffing.models import RosterEntry, ShiftClock

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        lead = await create_user(
            s, username="truongca", password="truongca-1022", role="supervisor",
            full_name="Nguyễn Thị Lan",
        )  # fmt: skip
        names = ("Phạm Minh Đức", "Vũ Thu Trang", "Hoàng Văn Nam", "Đặng Thị Mai", "Đỗ Văn Dũng")
        operators = [
            await create_user(
                s, username=f"dtv0{i}", password=f"dtv0{i}-1022", role="operator", full_name=name
            )
            for i, name in enumerate(names, start=1)
        ]
        offer = await volunteers.sign_up(
            s, full_name="Trần Văn Bình", phone="0912000333",
            skills={"medical": True, "languages": ["vi", "en"], "channels": ["phone"]},
        )  # fmt: skip
        await volunteers.decide(
            s, actor=actor_of(lead), volunteer_id=offer.volunteer.id, approve=True
        )
        shifts = await service.list_shifts(s, actor=actor_of(lead))
        today = site_today()
        monday = today - timedelta(days=today.weekday())
        for i in range(7):
            for shift, people in zip(
                shifts, (operators[1:3], operators[3:4], operators[4:5]), strict=True
            ):
                day = monday + timedelta(days=i)
                for person in people:
                    s.add(RosterEntry(day=day, shift_id=shift.id, user_id=person.id))
        # Someone who clocked in and may have left without clocking out.
        s.add(ShiftClock(user_id=operators[1].id, in_at=utcnow() - timedelta(hours=3)))
    await engine.dispose()


def _visible_options(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        "#roster-person option", "os => os.filter(o => !o.hidden).map(o => o.value)"
    )


@pytest.mark.e2e
def test_a_shift_lead_places_by_name_removes_a_place_and_copies_the_week(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/login")
    page.fill("#username", "truongca")
    page.fill("#password", "truongca-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/staffing#roster")
    tomorrow = (site_today() + timedelta(days=1)).isoformat()

    # "duc" finds Phạm Minh Đức (and only him and Đỗ Văn Dũng's "dung" does not match).
    page.fill("#roster-find", "minh duc")
    shown = _visible_options(page)
    assert len(shown) == 1
    duc = shown[0]
    assert "Phạm Minh Đức" in page.inner_text(f"#roster-person option[value='{duc}']")
    page.fill("#roster-day", tomorrow)
    page.select_option("#roster-shift_id", label="Ca chiều (14:00)")
    page.select_option("#roster-person", value=duc)
    page.click("#roster-assign")
    page.wait_for_selector("#done:text-is('Đã xếp người vào ca.')")
    cell = page.locator(f"#roster-table tr[data-shift='chieu'] td[data-day='{tomorrow}']")
    assert "Phạm Minh Đức" in cell.inner_text()

    # The volunteer, found by name; someone already on that shift is greyed out.
    page.fill("#roster-day", tomorrow)
    page.select_option("#roster-shift_id", label="Ca chiều (14:00)")
    page.fill("#roster-find", "minh duc")
    assert page.eval_on_selector(f"#roster-person option[value='{duc}']", "o => o.disabled")
    assert page.inner_text(f"#roster-person option[value='{duc}']").endswith("✓")
    page.fill("#roster-find", "binh")
    shown = _visible_options(page)
    assert len(shown) == 1 and shown[0].startswith("v")
    page.select_option("#roster-person", value=shown[0])
    page.click("#roster-assign")
    page.wait_for_selector("#done:text-is('Đã xếp người vào ca.')")
    assert "Trần Văn Bình" in cell.inner_text()
    if SCREENSHOTS:
        page.locator("#roster").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "staffing-roster.png"))

    # Taken off again with the button on his place.
    cell.locator("li", has_text="Phạm Minh Đức").locator("button").click()
    page.wait_for_selector("#done:text-is('Đã rút người khỏi ca.')")
    cell = page.locator(f"#roster-table tr[data-shift='chieu'] td[data-day='{tomorrow}']")
    assert "Phạm Minh Đức" not in cell.inner_text()
    assert "Trần Văn Bình" in cell.inner_text()

    # This week onto the next: the next week's page says what was copied.
    page.goto(live_server.url + f"/staffing?date={site_today().isoformat()}#roster")
    page.click("#copy-week")
    page.wait_for_selector("#copy-report")
    report = page.inner_text("#copy-report")
    assert "Đã chép" in report and "lượt trực từ tuần trước sang tuần này" in report
    copied = int(report.split("Đã chép ", 1)[1].split(" ", 1)[0])
    # 4 places a day for 7 days, and the volunteer's when tomorrow is in this week.
    assert copied in (28, 29)
    assert page.locator("#roster-table td", has_text="Vũ Thu Trang").count() == 7
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "staffing-copy.png"))
        page.locator("#shifts").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "staffing-shifts.png"))
    assert errors == [] and outside == []


def _sign_in(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", f"{username}-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")


@pytest.mark.e2e
def test_volunteer_offers_are_relinked_by_name_and_withdrawn(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    errors, outside = _watch(page, live_server)
    # Someone else signs up on the portal with the approved volunteer's number.
    page.goto(live_server.url + "/tinh-nguyen")
    page.fill("#full_name", "Trần Văn Bính")
    page.fill("#phone", "0912 000 333")
    page.click("#volunteer-form button[type=submit]")
    page.wait_for_selector("#sent-title")
    assert "0912" not in page.inner_text("main")  # nothing of the offer is shown back

    _sign_in(page, live_server, "truongca")
    tomorrow = (site_today() + timedelta(days=1)).isoformat()
    page.goto(live_server.url + f"/staffing?date={tomorrow}#roster")
    page.fill("#roster-day", tomorrow)
    page.select_option("#roster-shift_id", label="Ca chiều (14:00)")
    page.fill("#roster-find", "binh")
    page.select_option("#roster-person", value=_visible_options(page)[0])
    page.click("#roster-assign")
    page.wait_for_selector("#done:text-is('Đã xếp người vào ca.')")

    page.goto(live_server.url + "/staffing#volunteers")
    approved = page.locator("tr[data-approved]", has_text="Trần Văn Bình")
    waiting = page.locator("tr[data-volunteer]", has_text="Trần Văn Bính")
    assert "số đã được trưởng ca xác nhận khi duyệt" in approved.inner_text()
    assert "Còn 1 đăng ký khác với số này" in approved.inner_text()
    assert "số chưa xác nhận" in waiting.inner_text()
    assert "Còn 1 đăng ký khác với số này" in waiting.inner_text()
    assert approved.locator("td[data-account]").inner_text() == "chưa gắn"
    # The account he answers calls with, picked by name.
    approved.locator("select").select_option(label="Đỗ Văn Dũng (dtv05)")
    approved.locator("button", has_text="Lưu tài khoản").click()
    page.wait_for_selector("#done:text-is('Đã gắn tình nguyện viên với tài khoản đã chọn.')")
    approved = page.locator("tr[data-approved]", has_text="Trần Văn Bình")
    assert approved.locator("td[data-account]").inner_text() == "Đỗ Văn Dũng"
    waiting = page.locator("tr[data-volunteer]", has_text="Trần Văn Bính")
    waiting.locator("summary", has_text="Rút khỏi danh sách").click()
    if SCREENSHOTS:
        page.locator("#volunteers").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "staffing-volunteers.png"))

    # The volunteer withdraws his own offer from his page; his place tomorrow goes. (The
    # lead's page is left first: its live stream, reconnecting without the cookie, would
    # log a 401.)
    page.goto("about:blank")
    page.context.clear_cookies()
    _sign_in(page, live_server, "dtv05")
    page.goto(live_server.url + "/staffing#mine")
    assert "Trần Văn Bình" in page.inner_text("#mine")
    page.fill("#own-offer-reason", "Bận thi học kỳ")
    if SCREENSHOTS:
        page.locator("#mine").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "staffing-own-offer.png"))
    page.click("#own-offer-withdraw")
    page.wait_for_selector("#done")
    assert "1 chỗ trong các ca chưa bắt đầu" in page.inner_text("#done")
    assert page.locator("#mine").count() == 0

    # The lead withdraws the other offer with a reason.
    page.goto("about:blank")
    page.context.clear_cookies()
    _sign_in(page, live_server, "truongca")
    page.goto(live_server.url + f"/staffing?date={tomorrow}#volunteers")
    cell = page.locator(f"#roster-table tr[data-shift='chieu'] td[data-day='{tomorrow}']")
    assert "Trần Văn Bình" not in cell.inner_text()
    assert page.locator("tr[data-approved]", has_text="Trần Văn Bình").count() == 0
    waiting = page.locator("tr[data-volunteer]", has_text="Trần Văn Bính")
    waiting.locator("summary", has_text="Rút khỏi danh sách").click()
    waiting.locator("input[name=reason]").fill("Không liên lạc được")
    waiting.locator("button", has_text="Rút khỏi danh sách").click()
    page.wait_for_selector("#done")
    assert "0 chỗ trong các ca chưa bắt đầu" in page.inner_text("#done")
    assert page.locator("tr[data-volunteer]", has_text="Trần Văn Bính").count() == 0

    # The portal's thank-you page after a texted code, with its code form.
    page.goto(live_server.url + "/tinh-nguyen/da-gui?ma=1")
    assert page.locator("#code-form #code").count() == 1
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "volunteer-code.png"))
    assert errors == [] and outside == []
