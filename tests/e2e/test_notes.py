"""Notes on the case page in a real browser: two people on one case see each other's notes
live, a note leaves the other's actions valid, a reply reaches the citizen's tracking page
and an internal note never does."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.e2e.test_casework import _console
from tests.e2e.test_pages import SCREENSHOTS

NOTE = "Đã gọi cho người dân lúc 9 giờ, hẹn gọi lại; số nhà cũ 0988 777 666."
KB_ANSWER = "UBND phường tiếp nhận và cấp gạo hỗ trợ trong 24 giờ."
UNIT_NOTE = "Cán bộ phường sẽ đến khu trọ chiều nay."


async def _seed(settings: Any) -> tuple[str, str]:
    from hotline.auth.service import SYSTEM, create_user
    from hotline.cases.access import get_case_for
    from hotline.cases.workflow import forward_case
    from hotline.directory.service import create_unit
    from hotline.knowledge.service import Content, create_article, publish_article
    from hotline.portal.service import Report, send_report

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        units = {}
        for code, name, ward in (
            ("UB-00004", "UBND Phường Ba Đình", "00004"),
            ("UB-00008", "UBND Phường Ngọc Hà", "00008"),
        ):
            units[code] = await create_unit(
                s,
                code=code,
                name=name,
                unit_type="ward_committee",
                ward_codes=[ward],
                categories=["ho_tro_kho_khan"],
            )
        for username, role, unit in (
            ("dtv01", "operator", None),
            ("canbo01", "unit_officer", units["UB-00004"].id),
            ("canbo02", "unit_officer", units["UB-00008"].id),
        ):
            await create_user(
                s, username=username, password=f"{username}-1022", role=role, unit_id=unit
            )
        article = await create_article(
            s,
            actor=SYSTEM,
            content=Content(
                question="Hộ gia đình hết gạo được hỗ trợ lương thực ở đâu?",
                answer=KB_ANSWER,
                category_code="ho_tro_kho_khan",
            ),
        )
        await publish_article(s, actor=SYSTEM, article=article)
        sent = await send_report(
            s,
            report=Report(
                description="Khu trọ ngõ 12 có 20 công nhân hết gạo 3 ngày nay",
                ward_code="00004",
                category="ho_tro_kho_khan",
                phone="0912345678",
            ),
        )
        case = await get_case_for(s, SYSTEM, sent.code)
        await forward_case(s, actor=SYSTEM, case=case, unit_id=units["UB-00004"].id)
    await engine.dispose()
    return sent.code, sent.secret


def _sign_in(browser: Any, url: str, username: str, errors: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: _console(errors, m))
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", f"{username}-1022")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _tab_to(page: Any, element_id: str) -> None:
    """Move the focus with the Tab key only until it reaches the element."""
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} is not reachable with Tab")


@pytest.mark.e2e
def test_two_people_on_one_case_see_each_others_notes_live(live_server, browser, settings):  # type: ignore[no-untyped-def]
    code, secret = live_server.run(_seed(settings))  # type: ignore[misc]
    url = live_server.url
    errors: list[str] = []
    operator = _sign_in(browser, url, "dtv01", errors)
    officer = _sign_in(browser, url, "canbo01", errors)
    for page in (operator, officer):
        page.goto(f"{url}/cases/{code}")
        page.locator("#live-status [data-live=on]").wait_for(state="visible")

    # The operator writes an internal note with the keyboard alone.
    operator.focus("#note-text")
    operator.keyboard.type(NOTE)
    _tab_to(operator, "add-note")
    operator.keyboard.press("Enter")
    operator.wait_for_url(f"{url}/cases/{code}?done=note")

    # The officer sees it without reloading, and nothing asks them to reload: a note is not
    # a change their actions could be stale against.
    officer.locator("#timeline .kind-note", has_text="hẹn gọi lại").wait_for()
    assert officer.locator("#changed").is_hidden()
    officer.fill("#note-text", UNIT_NOTE)
    officer.click("#add-note")
    officer.wait_for_url(f"{url}/cases/{code}?done=note")
    assert officer.locator("#add-reply").count() == 0  # a unit answers by resolving
    operator.locator("#timeline .kind-note", has_text=UNIT_NOTE).wait_for()
    assert operator.locator("#changed").is_hidden()

    # The officer's accept, from the page open since before the operator's note, goes through.
    officer.click("#accept")
    officer.wait_for_url(f"{url}/cases/{code}?done=accept")
    assert officer.locator("#stale").count() == 0
    # That is a change: the operator's page says so.
    operator.locator("#changed").wait_for(state="visible")

    # A reply from the knowledge base in one click.
    operator.goto(f"{url}/cases/{code}")
    operator.locator("#notes button.use-article").first.click()
    assert operator.input_value("#note-text") == KB_ANSWER
    assert operator.evaluate("document.activeElement.id") == "note-text"
    operator.click("#add-reply")
    operator.wait_for_url(f"{url}/cases/{code}?done=reply")
    officer.locator("#timeline .kind-reply", has_text=KB_ANSWER).wait_for()
    if SCREENSHOTS:
        operator.screenshot(path=str(SCREENSHOTS / "case-notes.png"), full_page=True)

    # The citizen reads the reply on the tracking page, and none of the internal notes.
    citizen = browser.new_context().new_page()
    citizen.goto(f"{url}/tra-cuu")
    citizen.fill("#code", code)
    citizen.fill("#secret", secret)
    citizen.click("form button[type=submit]")
    citizen.locator("#replies").wait_for()
    assert KB_ANSWER in citizen.locator("#replies").inner_text()
    if SCREENSHOTS:
        citizen.screenshot(path=str(SCREENSHOTS / "portal-replies.png"), full_page=True)
    body = citizen.locator("body").inner_text()
    assert "hẹn gọi lại" not in body and "0988 777 666" not in body and UNIT_NOTE not in body

    assert errors == []

    # An officer of another unit: no such case for them (the browser logs that 404).
    other = _sign_in(browser, url, "canbo02", [])
    response = other.goto(f"{url}/cases/{code}")
    assert response is not None and response.status == 404
    assert "hẹn gọi lại" not in other.locator("body").inner_text()
