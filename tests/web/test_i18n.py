"""The pages in Vietnamese first and in English on request (web/i18n.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.web.i18n import LANGUAGES, catalogue
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "hotline"
# _("…") and _('…') with a literal: the only way templates name their text.
MESSAGE = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')\s*[,)]""")
ANY_CALL = re.compile(r"\b_\(")


def _template_messages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for template in sorted(PACKAGE.glob("*/templates/**/*.html")):
        text = template.read_text(encoding="utf-8")
        literal = [
            m.group(1) if m.group(1) is not None else m.group(2) for m in MESSAGE.finditer(text)
        ]
        # A `_()` of anything but a literal could not be found by a translator.
        assert len(literal) == len(ANY_CALL.findall(text)), f"{template}: _() of a non-literal"
        for message in literal:
            found.setdefault(message, []).append(template.name)
    return found


def test_every_text_of_every_template_has_its_english() -> None:
    english = catalogue("en")
    messages = _template_messages()
    assert len(messages) > 30
    missing = {m: where for m, where in messages.items() if not english.get(m)}
    assert not missing, f"no English for: {missing}"


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
# Letters outside ASCII (Vietnamese ones above all); punctuation like – … · “ ” is allowed.
LETTER_OUTSIDE_ASCII = re.compile(r"[^\W\d_a-zA-Z]")


def test_no_template_writes_text_outside_the_catalogues() -> None:
    """Vietnamese text written straight into a template would stay Vietnamese in English."""
    for template in sorted(PACKAGE.glob("*/templates/**/*.html")):
        bare = JINJA.sub(" ", template.read_text(encoding="utf-8"))
        found = [m.group(0) for m in LETTER_OUTSIDE_ASCII.finditer(bare)]
        assert not found, f"{template}: text outside _(): {found[:5]}"


def _csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, html
    return match.group(1)


async def test_vietnamese_first_then_english_by_the_switch_and_back(client, world) -> None:
    page = await client.get("/login")
    assert '<html lang="vi">' in page.text and "Tên đăng nhập" in page.text
    r = await client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    board = await client.get("/")
    assert "Yêu cầu mới nhất" in board.text and "Đăng xuất" in board.text
    csrf = _csrf_of(board.text)
    r = await client.post(
        "/lang", data={"lang": "en", "next": "/", "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    board = await client.get("/")
    assert '<html lang="en">' in board.text
    assert "Latest requests" in board.text and "Sign out" in board.text
    assert "Yêu cầu mới nhất" not in board.text
    # What citizens and staff typed stays as they typed it.
    r = await client.post("/lang", data={"lang": "vi", "next": "/", "csrf": csrf})
    assert "Yêu cầu mới nhất" in (await client.get("/")).text


async def test_the_switch_needs_the_form_token_and_stays_on_this_site(client) -> None:
    page = await client.get("/login")
    r = await client.post("/lang", data={"lang": "en", "next": "/login", "csrf": "forged"})
    assert "lang" not in r.cookies and '<html lang="vi">' in (await client.get("/login")).text
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = await client.post(
            "/lang",
            data={"lang": "vi", "next": elsewhere, "csrf": _csrf_of(page.text)},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"
    r = await client.post(
        "/lang", data={"lang": "xx", "next": "/login", "csrf": _csrf_of(page.text)}
    )
    assert '<html lang="vi">' in (await client.get("/login")).text


async def test_vietnamese_whatever_the_browser_asks_until_english_is_chosen(client) -> None:
    r = await client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="vi">' in r.text and "Tên đăng nhập" in r.text
    client.cookies.set("lang", "fr")  # not a language of the site
    assert '<html lang="vi">' in (await client.get("/login")).text
    assert set(LANGUAGES) == {"vi", "en"}
