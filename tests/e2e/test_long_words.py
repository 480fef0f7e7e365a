"""Text people type can hold one very long unbroken word (a pasted link, a key held down):
it wraps, and no page of the workspace scrolls sideways on a 1366×768 screen."""

from __future__ import annotations

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site

WORD = "a" * 20_000
WIDTH = 1366


async def _seed(settings) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    from hotline.auth.service import SYSTEM, actor_of, create_user
    from hotline.cases.notes import add_note
    from hotline.cases.service import NewCase, open_case

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        user = await create_user(
            s, username="dtv02", password="dtv02-1022", role="operator", full_name="ĐTV 02"
        )
        case = await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="web",
                description=WORD,
                contact_phone="0912345678",
                contact_name="B" * 200,
                ward_code="00004",
            ),
        )
        # The case page suggests articles from descriptions of up to 5,000 characters.
        shorter = await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(channel="web", description=WORD[:5000], ward_code="00004"),
        )
        await add_note(
            s, actor=actor_of(user), code=shorter.code, text=WORD[:4000], visibility="internal"
        )
    await engine.dispose()
    return case.code, shorter.code


@pytest.mark.e2e
def test_one_long_word_does_not_widen_the_console_or_the_case(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    code, shorter = live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": WIDTH, "height": 768})
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv02")
    page.fill("#password", "dtv02-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    for path, shown in (("/", code), (f"/cases/{shorter}", shorter)):
        page.goto(live_server.url + path)
        assert shown in page.content()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= WIDTH, f"{path} is {width} px wide"


async def _seed_ordinary(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import SYSTEM, create_user
    from hotline.cases.service import NewCase, open_case

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s, username="dtv03", password="dtv03-1022", role="operator", full_name="ĐTV 03"
        )
        await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="phone",
                category="cap_cuu",
                description="Người nhà báo bệnh nhân khó thở, môi tím tái, cần xe cấp cứu "
                "đến ngay tại nhà riêng trong hẻm nhỏ gần chợ phường, gọi lại số này.",
                contact_phone="0912345678",
                ward_code="00004",
            ),
        )
    await engine.dispose()


# Each word of the table's headers and short cells, the lines it takes in the browser.
_SPLIT_WORDS = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('#list th, #list td:not(:nth-child(5))')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const re = /\\S+/g;
      for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].map((b) => Math.round(b.top)));
        if (lines.size > 1) out.push(m[0]);
      }
    }
  }
  return out;
}"""


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_ordinary_words_in_the_console_list_never_break(  # type: ignore[no-untyped-def]
    live_server, browser, settings, lang
):
    live_server.run(_seed_ordinary(settings))
    page = browser.new_page(viewport={"width": WIDTH, "height": 768})
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv03")
    page.fill("#password", "dtv03-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    page.locator("#list tr[data-code]").first.wait_for()
    assert page.evaluate(_SPLIT_WORDS) == []
