"""The 1022 app in a real browser on a phone-sized screen: a report with a photo written
offline, kept on the phone, sent when the connection returns, then tracked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.attachments.models import Attachment
from hotline.cases.models import Case
from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.e2e.test_pages import SCREENSHOTS
from tests.portal.test_portal import WARD, tiny_png

CONTROLLED = """async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((done) =>
      navigator.serviceWorker.addEventListener("controllerchange", done, { once: true }));
  }
  return navigator.serviceWorker.controller !== null;
}"""


async def _stored(settings) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    """Every case's code and channel with its files' types."""
    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s:
        cases = (await s.scalars(select(Case).order_by(Case.id))).all()
        out = []
        for case in cases:
            types = (
                await s.scalars(select(Attachment.media_type).where(Attachment.case_id == case.id))
            ).all()
            out.append((case.code, case.channel.value, list(types)))
    await engine.dispose()
    return out


@pytest.mark.e2e
def test_a_report_with_a_photo_written_offline_is_sent_online_and_tracked(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live_server.url + "/phan-anh")
    # The service worker takes the form over (it opens offline from now on).
    # (evaluate, not wait_for_function: the CSP forbids the eval that polling would use)
    assert page.evaluate(CONTROLLED)
    assert page.locator("a[href='/faq']").first.is_visible()

    context.set_offline(True)
    page.reload()  # no network: the form comes from the service worker's cache
    assert page.locator("h2").first.inner_text() == "Gửi phản ánh đến Tổng đài 1022"
    page.select_option("#category", "khac")
    page.fill("#description", "Cống trước nhà bị tắc, nước thải tràn ra đường hai ngày nay")
    page.select_option("#ward_code", WARD)
    page.fill("#address", "Số 12 ngõ 34 phố Đội Cấn")
    page.fill("#name", "Nguyễn Thị Hoa")
    page.fill("#phone", "0912345678")
    page.set_input_files(
        "#files", files=[{"name": "cong-tac.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    page.click("#send")
    queued = page.locator("#queued")
    queued.wait_for(state="visible")
    assert queued.inner_text() == "Đã lưu, sẽ gửi khi có mạng."
    assert page.inner_text("#outbox-count") == "1"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "portal-offline.png"))
    assert live_server.run(_stored(settings)) == []  # kept on the phone, nothing sent

    context.set_offline(False)  # the "online" event sends it, the photo after the report
    page.wait_for_url(live_server.url + "/phan-anh/da-gui", timeout=20000)
    code = page.inner_text(".case-code")
    secret = page.inner_text(".case-secret")
    assert live_server.run(_stored(settings)) == [(code, "web", ["image/png"])]
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "portal-sent.png"))

    page.click(f"a[href='/tra-cuu?ma={code}']")
    assert page.input_value("#code") == code
    page.fill("#secret", secret)
    page.click("#main button[type=submit]")
    assert page.inner_text("#status") == "Mới"
    assert "Chưa có trả lời" in page.inner_text("#answer")
    # Nothing of the reporter's on the tracking page.
    assert "Nguyễn Thị Hoa" not in page.content()
    assert errors == []
    context.close()


@pytest.mark.e2e
def test_a_mistake_is_shown_by_its_field_and_the_report_goes_once_corrected(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/phan-anh")
    text = "Đèn đường ngõ 5 phố Kim Mã hỏng cả tuần nay, tối đi lại rất nguy hiểm"
    page.fill("#description", text)
    page.select_option("#ward_code", WARD)
    page.fill("#phone", "12345")
    page.set_input_files(
        "#files", files=[{"name": "den.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    page.click("#send")
    message = page.locator("#phone-error")
    message.wait_for(state="visible")
    assert message.inner_text().startswith("Số điện thoại không hợp lệ")
    assert page.get_attribute("#phone", "aria-invalid") == "true"
    assert page.input_value("#description") == text  # nothing typed is lost
    assert live_server.run(_stored(settings)) == []
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "portal-form-error.png"), full_page=True)

    page.fill("#phone", "0912345678")
    page.click("#send")
    page.wait_for_url(live_server.url + "/phan-anh/da-gui")
    code = page.inner_text(".case-code")
    assert live_server.run(_stored(settings)) == [(code, "web", ["image/png"])]
    assert errors == []


@pytest.mark.e2e
def test_a_nul_is_named_by_its_field_and_a_refused_file_on_the_answer_page(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/phan-anh")
    text = "Đèn đường ngõ 5 phố Kim Mã hỏng cả tuần nay\u0000 tối đi lại rất nguy hiểm"
    page.fill("#description", text)
    page.select_option("#ward_code", WARD)
    page.click("#send")
    message = page.locator("#description-error")
    message.wait_for(state="visible")
    assert message.inner_text().startswith("Không được chứa ký tự NUL")
    assert "[object Object]" not in page.inner_text("#report-form")
    assert page.get_attribute("#description", "aria-invalid") == "true"

    page.fill("#description", text.replace("\u0000", ""))
    page.set_input_files(
        "#files",
        files=[
            {"name": "den.png", "mimeType": "image/png", "buffer": tiny_png()},
            {"name": "fake.jpg", "mimeType": "image/jpeg", "buffer": b"chi la chu " * 30},
        ],
    )
    page.click("#send")
    page.wait_for_url(live_server.url + "/phan-anh/da-gui")
    code = page.inner_text(".case-code")
    refused = page.inner_text(f"#refused-{code}")
    assert "fake.jpg" in refused and "Chỉ nhận ảnh, video" in refused
    assert "den.png" not in refused
    assert live_server.run(_stored(settings)) == [(code, "web", ["image/png"])]
    assert errors == []
