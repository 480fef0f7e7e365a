"""Sign-in and the case board in a real browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site

SCREENSHOTS = (
    Path(os.environ.get("HOTLINE_SCREENSHOTS", ""))
    if os.environ.get("HOTLINE_SCREENSHOTS")
    else None
)


async def _seed(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import SYSTEM, create_user
    from hotline.cases.service import NewCase, open_case

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s,
            username="dtv01",
            password="dtv01-1022",
            role="operator",
            full_name="Điện thoại viên 01",
        )
        await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="zalo",
                description=(
                    "Khu trọ ở ngõ 12 có 20 công nhân hết gạo 3 ngày nay, xin hỗ trợ lương thực"
                ),
                category="ho_tro_kho_khan",
                contact_phone="0912345678",
                contact_name="Trần Văn Bình",
                ward_code="00004",
            ),
        )
        await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="phone",
                description="Bố tôi 72 tuổi khó thở, SpO2 91%, cần cấp cứu gấp",
                category="cap_cuu",
                urgent=True,
                contact_phone="0987654321",
                ward_code="00004",
            ),
        )
    await engine.dispose()


@pytest.mark.e2e
def test_operator_signs_in_and_sees_the_case_board(live_server, browser, settings):  # type: ignore[no-untyped-def]
    live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live_server.url + "/")
    assert page.url.endswith("/login")
    assert page.locator("h2").inner_text() == "Đăng nhập"

    page.fill("#username", "dtv01")
    page.fill("#password", "sai-mat-khau")
    page.click("button[type=submit]")
    error = page.locator("#password-error")
    assert error.inner_text() == "Sai tên đăng nhập hoặc mật khẩu"
    assert page.input_value("#username") == "dtv01"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "login-error.png"))

    page.fill("#password", "dtv01-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    rows = page.locator("#cases tr[data-code]")
    assert rows.count() == 2
    assert "Khẩn cấp" in rows.nth(0).inner_text()
    assert "SpO2 91%" in rows.nth(0).inner_text()
    assert "hết gạo" in rows.nth(1).inner_text()
    assert page.locator(".stat b").first.inner_text() == "2"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "board.png"), full_page=True)


@pytest.mark.e2e
def test_empty_fields_show_messages_next_to_each_field(live_server, browser):  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(live_server.url + "/login")
    page.click("button[type=submit]")
    assert page.locator("#username-error").inner_text() == "Vui lòng nhập tên đăng nhập."
    assert page.locator("#password-error").inner_text() == "Vui lòng nhập mật khẩu."
