"""A unit officer works a forwarded case from the inbox in a real browser."""

from __future__ import annotations

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.e2e.test_pages import SCREENSHOTS

ANSWER = "Phường đã đưa 20 kg gạo và nhu yếu phẩm đến khu trọ."


async def _seed(settings) -> str:  # type: ignore[no-untyped-def]
    from hotline.auth.service import SYSTEM, create_user
    from hotline.cases.service import NewCase, open_case
    from hotline.cases.workflow import forward_case
    from hotline.directory.service import create_unit

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        unit = await create_unit(
            s,
            code="UB-00004",
            name="UBND Phường Ba Đình",
            unit_type="ward_committee",
            ward_codes=["00004"],
            categories=["ho_tro_kho_khan"],
        )
        await create_user(
            s,
            username="canbo01",
            password="canbo01-1022",
            role="unit_officer",
            unit_id=unit.id,
            full_name="Cán bộ phường 01",
        )
        case = await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="zalo",
                description="Khu trọ ngõ 12 có 20 công nhân hết gạo 3 ngày nay",
                category="ho_tro_kho_khan",
                contact_phone="0912345678",
                ward_code="00004",
            ),
        )
        await forward_case(s, actor=SYSTEM, case=case, unit_id=unit.id, note="Hỗ trợ gấp")
        code = case.code
    await engine.dispose()
    return code


async def _status(settings, code: str) -> tuple[str, str | None]:  # type: ignore[no-untyped-def]
    from hotline.auth.service import SYSTEM
    from hotline.cases.access import get_case_for

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s:
        case = await get_case_for(s, SYSTEM, code)
        found = (case.status.value, case.answer)
    await engine.dispose()
    return found


def _console(errors: list[str], message) -> None:  # type: ignore[no-untyped-def]
    # The site has no favicon yet (the shared layout's); anything else is this page's.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        errors.append(f"{message.text} {message.location}")


@pytest.mark.e2e
def test_unit_officer_accepts_and_resolves_a_forwarded_case(live_server, browser, settings):  # type: ignore[no-untyped-def]
    code = live_server.run(_seed(settings))
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []  # console errors: a CSP violation is one
    page.on("console", lambda m: _console(errors, m))
    page.goto(live_server.url + "/")
    page.fill("#username", "canbo01")
    page.fill("#password", "canbo01-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/inbox")
    row = page.locator(f"#row-{code}")
    assert "hết gạo" in row.inner_text()
    assert page.locator("#count-pending b").inner_text() == "1"

    # The same officer has the case page open in another tab: it follows live.
    watcher = context.new_page()
    watcher.on("console", lambda m: _console(errors, m))
    watcher.goto(f"{live_server.url}/cases/{code}")
    watcher.locator("#live-status [data-live=on]").wait_for(state="visible")

    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)
    row.locator("button.accept").click()
    page.wait_for_url(live_server.url + "/inbox?done=accept")
    assert page.locator("#count-accepted b").inner_text() == "1"
    watcher.locator("#timeline .kind-accepted").wait_for()
    watcher.locator("#changed").wait_for(state="visible")

    row = page.locator(f"#row-{code}")
    row.locator("summary", has_text="Giải quyết").click()
    row.locator("textarea[name=answer]").fill(ANSWER)
    row.locator("button.resolve").click()
    page.wait_for_url(live_server.url + "/inbox?done=resolve")
    assert page.locator(f"#row-{code}").count() == 0
    assert page.locator("#done").inner_text() == "Đã giải quyết."

    # What the citizen will be told: the case is resolved with the unit's answer.
    assert live_server.run(_status(settings, code)) == ("resolved", ANSWER)
    page.goto(f"{live_server.url}/cases/{code}")
    assert page.locator("#case-status").inner_text() == "Đã giải quyết"
    assert ANSWER in page.locator("#case-answer").inner_text()
    if SCREENSHOTS:
        watcher.screenshot(path=str(SCREENSHOTS / "case-live.png"), full_page=True)
        page.screenshot(path=str(SCREENSHOTS / "case.png"), full_page=True)
    assert errors == []
    context.close()
