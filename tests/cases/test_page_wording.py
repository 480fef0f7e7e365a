"""The inbox's refusals and the English wording of the case page and the inbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.cases.helpers import create, forward, ok
from tests.cases.test_pages import post_action, signed_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "hotline"
MESSAGE = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')\s*[,)]""")


async def test_a_refused_return_is_summarised_on_top_with_only_its_form_open(
    client,
    world,
    signed_in,  # noqa: F811
) -> None:
    case = await create(client, world)
    other = await create(client, world)
    await forward(client, world, case["code"])
    await forward(client, world, other["code"])
    code = case["code"]
    async with signed_in("officer") as c:
        inbox = (await c.get("/inbox")).text
        r = await post_action(c, code, "return", inbox, row=code, next="inbox", reason="  ")
        assert r.status_code == 422
        html = r.text
        summary = re.search(
            r'<div id="error-summary"[^>]*role="alert"[^>]*>(.*?)</div>', html, re.S
        )
        assert summary, html
        assert f'href="#reason-{code}"' in summary.group(1) and "Cần nêu lý do" in summary.group(1)
        # The summary comes before the list.
        assert html.index('id="error-summary"') < html.index('id="inbox-rows"')
        row = html[html.index(f'id="row-{code}"') :]
        row = row[: row.index("</tr>")]
        assert row.count("<details open>") == 1
        returned = row[row.index("act/return") :]
        assert f'id="reason-{code}"' in returned and 'aria-invalid="true"' in returned
        assert f'id="reason-{code}-error"' in returned
        resolve = row[row.index("act/resolve") : row.index("act/return")]
        assert "aria-invalid" not in resolve
        # Another row keeps its boxes closed.
        other_row = html[html.index(f'id="row-{other["code"]}"') :]
        assert "<details open>" not in other_row[: other_row.index("</tr>")]

        # The typed text is kept in the open form.
        r = await post_action(c, code, "resolve", inbox, row=code, next="inbox", answer="   ")
        assert r.status_code == 422 and 'href="#answer-' in r.text

        # A successful action redirects, so reloading the page does not post again.
        r = await post_action(
            c, code, "return", inbox, row=code, next="inbox", reason="Sai địa bàn"
        )
        assert r.status_code == 303 and r.headers["location"] == "/inbox?done=return"
        after = await c.get(r.headers["location"])
        assert after.status_code == 200 and 'id="done"' in after.text
        assert 'id="error-summary"' not in after.text


async def test_english_case_page_and_inbox_say_what_they_mean(
    client,
    world,
    signed_in,  # noqa: F811
) -> None:
    case = await create(client, world)
    code = case["code"]
    await ok(client, world, "operator", code, "take")
    await forward(client, world, code)
    async with signed_in("officer") as c:
        c.cookies.set("lang", "en")
        inbox = (await c.get("/inbox")).text
        row = inbox[inbox.index(f'id="row-{code}"') :]
        assert re.search(r'class="accept">Accept</button>', row), row
        assert "Received" not in inbox
        await ok(client, world, "officer", code, "accept")
        await ok(client, world, "officer", code, "resolve", {"answer": "Đã hỗ trợ gạo."})
    async with signed_in("operator") as c:
        c.cookies.set("lang", "en")
        page = (await c.get(f"/cases/{code}")).text
        assert f"<title>Request {code} ·" in page
        assert re.search(rf'id="case-title">Request {code}\b', page)
        assert "Requests" not in page
        assert '<label for="note-text">Note or reply</label>' in page
        timeline = page[page.index('class="timeline"') :]
        kinds = re.findall(r"<b>([^<]+)</b>", timeline)
        assert "Taken" in kinds and "Forwarded to units" in kinds and "Resolved" in kinds
        assert "Take" not in kinds and "Resolve" not in kinds and "Forward" not in kinds


def test_the_case_pages_texts_have_one_english_in_every_catalogue() -> None:
    """The catalogues are merged into one table: a Vietnamese text the case pages share with
    another domain in another sense would show that domain's English."""
    english: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*/locale/en.po")):
        with path.open("rb") as f:
            for m in read_po(f, locale="en"):
                if m.id and m.string:
                    english.setdefault(str(m.id), set()).add(str(m.string))
    used: set[str] = set()
    for template in (PACKAGE / "cases" / "templates").glob("**/*.html"):
        used |= {a or b for a, b in MESSAGE.findall(template.read_text(encoding="utf-8"))}
    with (PACKAGE / "cases" / "locale" / "en.po").open("rb") as f:
        used |= {str(m.id) for m in read_po(f, locale="en") if m.id}
    clashes = {m: english[m] for m in used if len(english.get(m, ())) > 1}
    assert not clashes, clashes
