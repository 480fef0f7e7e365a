"""Administration in a real browser: an administrator opens an operator's account with
their phone's SIP login, then disables it; uploads a prompt's recording and listens to it."""

from __future__ import annotations

import shutil

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.conftest import missing_tool
from tests.e2e.test_accessibility import _violations
from tests.e2e.test_csp import _watch
from tests.e2e.test_pages import SCREENSHOTS
from tests.phoneconfig.test_uploads import make_wav


async def _seed_admin(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import create_user

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s, username="qtv", password="qtv-1022-an-toan", role="admin", full_name="Quản trị viên"
        )
    await engine.dispose()


@pytest.mark.e2e
def test_an_admin_creates_an_operator_with_a_sip_login_then_disables_them(
    live_server, browser, settings
):  # type: ignore[no-untyped-def]
    live_server.run(_seed_admin(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/login")
    page.fill("#username", "qtv")
    page.fill("#password", "qtv-1022-an-toan")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.click("header nav >> text=Quản trị")
    page.click("text=Tài khoản và vai trò")
    page.wait_for_url(live_server.url + "/admin/users")

    page.fill("#username", "dtv07")
    page.fill("#full_name", "Phạm Thu Hà")
    page.select_option("#role", "operator")
    page.fill("#password", "dtv07-mat-khau")
    page.click("form[action='/admin/users'] button[type=submit]")
    assert page.locator("#done").inner_text() == "Đã tạo tài khoản."
    assert page.locator("h2").inner_text() == "Phạm Thu Hà"

    # A SIP username with a space is refused next to its field, what was typed kept.
    page.fill("#sip_username", "dtv 07")
    page.fill("#sip_password", "sip-dtv07-1022")
    page.click("form[action$='/sip'] button[type=submit]")
    assert "chỉ gồm chữ, số" in page.locator("#sip_username-error").inner_text()
    assert page.input_value("#sip_username") == "dtv 07"
    page.fill("#sip_username", "dtv07")
    page.fill("#sip_password", "sip-dtv07-1022")
    page.click("form[action$='/sip'] button[type=submit]")
    assert page.locator("#done").inner_text() == "Đã lưu tài khoản SIP."
    assert page.locator("#sip").inner_text() == "dtv07"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "admin-user.png"), full_page=True)

    page.click("form[action$='/active'] button[type=submit]")
    assert "Đã khoá tài khoản" in page.locator("#done").inner_text()
    assert page.locator("#state").inner_text() == "Đã khoá"
    page.click("nav.admin-nav >> text=Tài khoản và vai trò")
    row = page.locator("tr", has=page.locator("a", has_text="dtv07"))
    assert "Đã khoá" in row.inner_text() and "dtv07" in row.inner_text()
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "admin-users.png"), full_page=True)
    # The refused SIP form answers 422 on purpose; anything else (a CSP violation) fails.
    assert [e for e in errors if "status of 422" not in e] == [] and outside == []


@pytest.mark.e2e
def test_an_admin_uploads_a_prompt_recording_and_listens_to_it(
    live_server, browser, settings, tmp_path
):  # type: ignore[no-untyped-def]
    sox = shutil.which("sox")
    if sox is None:
        missing_tool("sox is not installed")
    recording = tmp_path / "loi-chao.wav"
    make_wav(sox, recording, seconds=1.5)
    live_server.run(_seed_admin(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/login")
    page.fill("#username", "qtv")
    page.fill("#password", "qtv-1022-an-toan")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/admin")
    page.click("text=Cấu hình tổng đài")
    page.click("#edit-prompt-greeting")
    page.wait_for_url(live_server.url + "/admin/phone/prompts/greeting")
    assert page.locator("#no-recording").is_visible()

    page.set_input_files("#file", str(recording))
    page.click("form[action$='/upload'] button[type=submit]")
    assert "Đã tải lên bản ghi âm" in page.locator("#done").inner_text()
    audio = page.locator("audio#listen")
    assert audio.is_visible() and audio.get_attribute("controls") is not None
    # The browser fetches the recording through the signed-in route and can play it.
    page.wait_for_function(
        "() => { const a = document.querySelector('audio#listen'); return a.duration > 1; }",
        timeout=10_000,
    )
    assert "Đã tải lên bản ghi âm" in page.locator("#history").inner_text()
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "admin-prompt.png"), full_page=True)
    assert _violations(page) == []

    # A menu refused on its row, readable by assistive technology too.
    page.goto(live_server.url + "/admin/phone/menus/main")
    page.fill("#digit-1", "1")
    page.click("#item-form button[type=submit]")
    assert "Phím 1 được dùng hai lần" in page.locator("#digit-1-error").inner_text()
    assert page.get_attribute("#digit-1", "aria-invalid") == "true"
    assert _violations(page) == []
    # The refused menu answers 422 on purpose; anything else (a CSP violation) fails.
    assert [e for e in errors if "status of 422" not in e] == [] and outside == []
