"""The operator console in a real browser: a call answered by the line, recorded as a case and
forwarded with the keyboard only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.db import create_engine, make_sessionmaker, utcnow
from hotline.site import Site
from tests.e2e.test_pages import SCREENSHOTS

CALLER = "+84912345678"


async def _seed(settings) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """An operator who is available to the line, a citizen who called before, a ward unit."""
    from hotline.auth.service import SYSTEM, actor_of, create_user
    from hotline.cases.service import NewCase, open_case
    from hotline.directory.service import create_unit
    from hotline.staffing.availability import set_availability
    from hotline.staffing.clock import allow_off_shift

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        user = await create_user(
            s, username="dtv01", password="dtv01-1022", role="operator", full_name="ĐTV 01"
        )
        # At work: a shift lead's leave lets them clock in (no roster here), so the
        # console's Sẵn sàng / Bận buttons are accepted (staffing/availability.py).
        await allow_off_shift(s, actor=SYSTEM, user_id=user.id, minutes=600, reason="Trực thử")
        await set_availability(s, actor=actor_of(user), status="available")
        old = await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="zalo",
                description="Xin hỏi lịch tiêm vắc xin mũi 2 ở phường",
                category="tiem_vac_xin",
                contact_phone="0912345678",
                contact_name="Trần Văn Bình",
                ward_code="00004",
            ),
        )
        unit = await create_unit(
            s,
            code="UB-00004",
            name="UBND Phường Ba Đình",
            unit_type="ward_committee",
            ward_codes=["00004"],
            categories=["ho_tro_kho_khan"],
        )
    await engine.dispose()
    return {"operator": user.id, "old_case": old.code, "unit": unit.name}


async def _answer_call(settings, operator_id: int) -> int:  # type: ignore[no-untyped-def]
    """What the phone line does when it puts a call through (telephony/server.py
    CallRecorder._open): the open call row, the operator busy on it, `call.answered`."""
    from hotline.agents.models import AgentStatus
    from hotline.agents.service import line_update
    from hotline.calls.service import NewCall, call_context, open_call
    from hotline.events import committed, record_event
    from hotline.telephony.server import answered_event

    engine = create_engine(settings.effective_database_url)
    now = utcnow()
    data = NewCall(
        line="1022",
        caller=CALLER,
        started_at=now - timedelta(seconds=20),
        answered_at=now,
        menu_path="0",
        branch="operator",
        queue_wait_seconds=8,
        operator_id=operator_id,
        outcome="answered",
    )
    async with committed(make_sessionmaker(engine, Site.from_settings(settings)), None) as s:
        call = await open_call(s, data=data)
        await line_update(s, user_id=operator_id, status=AgentStatus.BUSY, current_call_id=call.id)
        context = await call_context(
            s, call_id=call.id, reader_id=operator_id, purpose="call_answered"
        )
        record_event(s, answered_event(context, operator_id))
        call_id = call.id
    await engine.dispose()
    return call_id


@pytest.mark.e2e
def test_operator_records_an_answered_call_and_forwards_it_with_the_keyboard(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    seeded = live_server.run(_seed(settings))
    assert isinstance(seeded, dict)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[object] = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert page.locator("#agent-status").inner_text() == "Sẵn sàng"
    # The stream is open before the line answers (the event would be replayed anyway).
    page.wait_for_selector("main[data-live='1']", state="attached")

    call_id = live_server.run(_answer_call(settings, int(seeded["operator"])))  # type: ignore[call-overload]
    page.wait_for_selector("#on-call")
    assert CALLER in page.locator("#on-call").inner_text()
    assert page.input_value("#call-id") == str(call_id)
    assert page.locator("#agent-status").inner_text() == "Bận"
    assert page.evaluate("document.activeElement.id") == "description"
    # Saving an empty description says so next to it; nothing is sent.
    page.keyboard.press("Control+Enter")
    assert page.locator("#description-error").inner_text() == "Vui lòng nhập nội dung."
    assert page.locator("#saved").is_hidden()

    # Alt+N: the number field; typing the caller's number finds them and their past case.
    page.keyboard.press("Alt+N")
    assert page.evaluate("document.activeElement.id") == "phone-no"
    page.keyboard.press("Control+A")
    page.keyboard.type("0912 345 678")
    contact = page.locator("#contact")
    contact.get_by_text(str(seeded["old_case"])).wait_for()
    assert "Trần Văn Bình" in contact.inner_text()

    page.keyboard.press("Alt+M")
    page.keyboard.type("Khu trọ có 5 công nhân hết gạo ba ngày nay, xin hỗ trợ lương thực")
    triage = page.locator("#triage-category")
    triage.wait_for()
    assert triage.get_attribute("data-code") == "ho_tro_kho_khan"
    page.keyboard.press("Alt+G")
    assert page.input_value("#category") == "ho_tro_kho_khan"

    # The ward, typed without diacritics.
    page.keyboard.press("Alt+P")
    page.keyboard.type("ba dinh")
    option = page.locator("#ward-list li", has_text="Ba Đình").first
    option.wait_for()
    while page.locator("#ward-list li[aria-selected=true]").inner_text() != option.inner_text():
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#ward-code") == "00004"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "console-intake.png"))

    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#saved:not([hidden])")
    code = page.locator("#saved-text").inner_text().split()[-1]
    # The suggested units: the ward's committee among them; arrows choose, Alt+C forwards.
    units = page.locator("#units label")
    units.first.wait_for()
    names = units.all_inner_texts()
    assert seeded["unit"] in names
    for _ in range(names.index(str(seeded["unit"]))):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Alt+C")
    page.locator("#saved-text", has_text="Đã chuyển đến").wait_for()
    assert str(seeded["unit"]) in page.locator("#saved-text").inner_text()

    case = page.request.get(f"{live_server.url}/api/v1/cases/{code}").json()
    assert case["status"] == "forwarded" and case["ward_code"] == "00004"
    assert [c["id"] for c in case["calls"]] == [call_id]
    assert case["contact"]["name"] == "Trần Văn Bình"

    # The list, all cases: the new one shows as forwarded.
    page.keyboard.press("Alt+T")
    page.select_option("#f-view", "all")
    # The list in view, until the new one replaces it, may still show the case as new.
    page.locator(f"#cases tr[data-code='{code}']", has_text="Đã chuyển đơn vị").wait_for()
    # Availability from the keyboard too.
    page.keyboard.press("Alt+V")
    page.locator("#agent-status", has_text="Vắng mặt").wait_for()
    assert not errors
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "console-forwarded.png"))


@pytest.mark.e2e
def test_a_lost_stream_is_shown_and_resumes_with_what_was_missed(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    seeded = live_server.run(_seed(settings))
    assert isinstance(seeded, dict)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    # The server answers the stream with errors for a while (as when it restarts).
    down = {"now": True}

    def events(route) -> None:  # type: ignore[no-untyped-def]
        if down["now"]:
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/api/v1/events*", events)
    page.reload()
    page.locator("#conn", has_text="Mất kết nối, đang kết nối lại").wait_for()
    # A call is put through while the operator's stream is down ...
    call_id = live_server.run(_answer_call(settings, int(seeded["operator"])))  # type: ignore[call-overload]
    down["now"] = False
    # ... and arrives once it is back, without a reload.
    page.wait_for_selector("#on-call")
    assert page.input_value("#call-id") == str(call_id)
    page.locator("#conn:empty").wait_for(state="attached")


GATHERING = "Có khoảng 30 người tụ tập đánh bài ở đầu ngõ 45 Kim Mã"
KB_ANSWER = "Báo Công an phường qua 1022; tổng đài chuyển ngay cho đơn vị."


async def _seed_suggestions(settings) -> str:  # type: ignore[no-untyped-def]
    """A case the next caller repeats and a published answer to their question."""
    from hotline.auth.service import SYSTEM
    from hotline.cases.service import NewCase, open_case
    from hotline.knowledge.schemas import ArticleIn
    from hotline.knowledge.service import create_article, publish_article

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        case = await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="phone",
                description=GATHERING,
                category="phan_anh_vi_pham",
                address="Ngõ 45 Kim Mã",
            ),
        )
        content = ArticleIn(
            question="Phát hiện tụ tập đông người, đánh bài thì báo ở đâu?",
            answer=KB_ANSWER,
            category="phan_anh_vi_pham",
        ).content()
        article = await create_article(s, actor=SYSTEM, content=content)
        await publish_article(s, actor=SYSTEM, article=article)
    await engine.dispose()
    return case.code


@pytest.mark.e2e
def test_an_answer_and_a_duplicate_are_taken_from_the_suggestions_with_the_keyboard(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    original = live_server.run(_seed_suggestions(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[object] = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    shortcuts = page.locator("#shortcuts").inner_text()
    assert "Alt+I" in shortcuts and "Alt+U" in shortcuts

    # A question the knowledge base answers: Alt+I puts the answer in, Ctrl+Enter saves it
    # answered.
    page.keyboard.press("Alt+M")
    page.keyboard.type("Thấy người tụ tập đánh bài thì báo ở đâu ạ?")
    page.locator("#suggest button.insert").first.wait_for()
    page.keyboard.press("Alt+I")
    assert page.input_value("#answer") == KB_ANSWER
    assert page.evaluate("document.activeElement.id") == "answer"
    page.keyboard.press("Control+Enter")
    page.locator("#saved-text", has_text="đã trả lời người gọi").wait_for()
    assert page.locator("#forward-box").is_hidden()
    answered = page.locator("#saved-text").inner_text().split()[4]
    case = page.request.get(f"{live_server.url}/api/v1/cases/{answered}").json()
    assert (case["status"], case["answer"]) == ("resolved", KB_ANSWER)
    timeline = page.request.get(f"{live_server.url}/api/v1/cases/{answered}/events").json()
    assert "article_used" in [e["kind"] for e in timeline]

    # The next caller reports what is already recorded: Alt+U chooses the first likely
    # duplicate (again: unchooses it), Ctrl+Enter saves the case as its duplicate.
    page.keyboard.press("Alt+N")
    page.keyboard.press("Alt+M")
    page.keyboard.type("Lai co nhieu nguoi tu tap danh bai o dau ngo 45 Kim Ma")
    first = page.locator("#suggest button.same").first
    first.wait_for()
    chosen = str(first.get_attribute("data-duplicate"))
    page.keyboard.press("Alt+U")
    assert page.locator("#duplicate-choice").is_visible()
    assert page.locator("#duplicate-code").inner_text() == chosen
    assert first.get_attribute("aria-pressed") == "true"
    page.keyboard.press("Alt+U")
    assert page.locator("#duplicate-choice").is_hidden()
    page.keyboard.press("Alt+U")
    page.keyboard.press("Control+Enter")
    page.locator("#saved-text", has_text="trùng với " + chosen).wait_for()
    code = page.locator("#saved-text").inner_text().split()[4]
    case = page.request.get(f"{live_server.url}/api/v1/cases/{code}").json()
    assert (case["status"], case["duplicate_of"]) == ("duplicate", chosen)
    assert chosen in {original, answered}
    assert not errors


@pytest.mark.e2e
def test_the_bar_shows_the_callers_on_hold_and_their_wait_ticks(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    from tests.e2e.test_dashboard import _line_queue

    live_server.run(_seed(settings))
    live_server.run(_line_queue(settings, 1, 30))
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    # Read from the event log with the page, then live.
    assert page.locator("#queue-waiting").inner_text() == "1"
    assert page.locator("#queue-longest").inner_text().startswith("0:3")
    page.wait_for_selector("main[data-live='1']", state="attached")
    live_server.run(_line_queue(settings, 3, 125))
    page.wait_for_selector("#queue-waiting:text-is('3')", timeout=15000)
    assert page.locator("#queue-longest").inner_text().startswith("2:0")
    live_server.run(_line_queue(settings, 0, 0))
    page.wait_for_selector("#queue-waiting:text-is('0')", timeout=15000)
    assert page.locator("#queue-longest").inner_text() == "–"


@pytest.mark.e2e
def test_urgency_reasons_show_once_with_their_label_and_the_citizens_words(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    page = browser.new_page()
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    page.fill("#description", "Mẹ tôi khó thở, SpO2 91%… cần xe cấp cứu gấp")
    page.locator("#triage mark.reason").first.wait_for()
    chips = page.locator("#triage mark.reason").all_inner_texts()
    # A quote that only repeats the label is not said twice.
    assert "Khó thở" in chips and "SpO2 thấp (≤ 94%): “SpO2 91”" in chips
    assert any("“xe cấp cứu”" in c for c in chips)
    assert not any("kho tho" in c or "spo2 91" in c for c in chips), chips
    assert len(chips) == len(set(chips))


async def _operator(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import create_user

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(s, username="dtv02", password="dtv02-1022", role="operator")
    await engine.dispose()


@pytest.mark.e2e
def test_a_refused_new_case_keeps_everything_typed_with_the_reason_by_its_field(
    live_server, browser, settings
):  # type: ignore[no-untyped-def]
    """A 20-digit phone number, then a NUL in the caller's name: the form stays as typed,
    each reason beside its own field, and nothing is saved until it is corrected."""
    live_server.run(_operator(settings))
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(live_server.url + "/")
    page.fill("#username", "dtv02")
    page.fill("#password", "dtv02-1022")
    page.click("button[type=submit]")
    page.wait_for_selector("#case-form")
    description = "Đèn đường ngõ 12 phố Đội Cấn hỏng ba ngày nay"
    page.fill("#phone-no", "9" * 20)
    page.fill("#contact-name", "Nguyễn Văn An")
    page.fill("#description", description)
    page.fill("#address", "Số 12 ngõ 34 phố Đội Cấn")
    page.focus("#description")
    page.keyboard.press("Control+Enter")
    error = page.locator("#phone-error")
    error.wait_for(state="visible")
    page.locator("#phone-error", has_text="Số điện thoại không hợp lệ").wait_for()
    assert error.inner_text() == f"Số điện thoại không hợp lệ: “{'9' * 20}”"
    # The field to correct has the focus, wherever the save was asked from.
    assert page.evaluate("document.activeElement.id") == "phone-no"
    assert page.locator("#form-error").inner_text() == ""
    assert page.input_value("#phone-no") == "9" * 20
    assert page.input_value("#description") == description
    assert page.input_value("#address") == "Số 12 ngõ 34 phố Đội Cấn"
    assert page.input_value("#contact-name") == "Nguyễn Văn An"

    page.fill("#phone-no", "0912345678")
    page.evaluate("document.getElementById('contact-name').value = 'Nguyễn\\u0000 Văn An'")
    page.click("#save")
    page.locator("#name-error", has_text="Không được chứa ký tự NUL").wait_for()
    assert page.locator("#name-error").inner_text() == "Không được chứa ký tự NUL (\\x00)"
    assert page.locator("#phone-error").inner_text() == ""
    assert page.input_value("#description") == description
    assert page.locator("#saved").is_hidden()

    page.fill("#contact-name", "Nguyễn Văn An")
    page.click("#save")
    page.locator("#saved").wait_for(state="visible")


@pytest.mark.e2e
def test_urgency_reasons_show_in_english_when_english_is_chosen(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    page = browser.new_page()
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live_server.url}])
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    page.fill("#description", "Mẹ tôi khó thở, SpO2 91%… cần xe cấp cứu gấp")
    page.locator("#triage mark.reason").first.wait_for()
    chips = page.locator("#triage mark.reason").all_inner_texts()
    # The label in English, the citizen's words as written.
    assert "Difficulty breathing: “khó thở”" in chips, chips
    assert "Low SpO2 (≤ 94%): “SpO2 91”" in chips, chips
    assert not any("Khó thở" in c or "SpO2 thấp" in c for c in chips), chips
    assert page.locator("#triage-category").inner_text().isascii()
