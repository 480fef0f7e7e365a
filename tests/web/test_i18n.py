"""The pages in Vietnamese first and in English on request (web/i18n.py)."""

from __future__ import annotations

import ast
import json
import pickle
import re
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po

from hotline.cases.versions import STALE
from hotline.errors import InvalidTransition, NotFound
from hotline.messages import msg
from hotline.web.i18n import LANGUAGES, catalogue, translator
from tests.cases.helpers import create, ok
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


# Messages built in Python: service errors and labels, shown by pages in the page's language.

SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """DomainError and every class deriving from it anywhere in the package (by name)."""
    found = {"DomainError"}
    while True:
        more = {
            node.name
            for tree in trees.values()
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id in found for b in node.bases)
        }
        if more <= found:
            return found
        found |= more


def _python_messages() -> tuple[dict[str, list[str]], list[str]]:
    """Every message id written in Python (a msg() template, a literal given to a domain
    error), and the places that build an error's text any other way."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in SOURCES}
    errors = _error_classes(trees)
    found: dict[str, list[str]] = {}
    built: list[str] = []
    for path, tree in trees.items():
        where = str(path.relative_to(PACKAGE))
        for call in _calls(tree):
            name = _name(call)
            if name == "require" and len(call.args) == 3:  # auth.permissions.require's detail
                first = call.args[2]
            elif (name != "msg" and name not in errors) or not call.args:
                continue
            else:
                first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, []).append(where)
            elif isinstance(first, ast.Attribute) and first.attr == "template":
                continue  # a message's own template filled in again (its id is known)
            elif isinstance(first, ast.JoinedStr | ast.BinOp) or name == "msg":
                built.append(f"{where}:{call.lineno}")
    return found, built


def test_every_message_built_in_python_has_its_english() -> None:
    english = catalogue("en")
    messages, built = _python_messages()
    assert len(messages) > 150
    assert not built, f"error text built outside msg(): {built}"
    missing = {m: where for m, where in messages.items() if not english.get(m)}
    assert not missing, f"no English for: {missing}"
    # The English keeps the template's placeholders, or filling it in would fail.
    field = re.compile(r"\{(\w+)")
    for message in messages:
        assert set(field.findall(english[message])) == set(field.findall(message)), message


def _strings_outside_msg(tree: ast.Module, messages: set[str]) -> list[str]:
    """Non-ASCII string literals that are neither a docstring nor a message (the first
    argument of msg() or of a domain error)."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node) in messages and node.args:
            allowed.add(id(node.args[0]))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            allowed.add(id(body[0].value))
    return [
        f"{node.lineno}: {node.value[:40]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in allowed
        and LETTER_OUTSIDE_ASCII.search(node.value)
    ]


def test_pages_write_their_own_text_as_messages() -> None:
    """Text a page module writes itself (a form error, a notice) is a message too."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in SOURCES}
    messages = _error_classes(trees) | {"msg"}
    for path in sorted(PACKAGE.glob("*/pages.py")) + sorted(PACKAGE.glob("*/pages/*.py")):
        found = _strings_outside_msg(trees[path], messages)
        assert not found, f"{path}: text outside msg(): {found[:5]}"


def test_a_message_is_translated_with_its_values_and_stays_vietnamese_elsewhere() -> None:
    status = msg("Đã đóng")
    error = InvalidTransition(
        msg(
            "Không thể {action} yêu cầu đang ở trạng thái “{current}”",
            action=msg("đóng"),
            current=status,
        )
    )
    # The API and the CLI show the Vietnamese text, which the message is.
    assert error.detail == "Không thể đóng yêu cầu đang ở trạng thái “Đã đóng”"
    assert json.dumps({"detail": error.detail}, ensure_ascii=False) == (
        '{"detail": "Không thể đóng yêu cầu đang ở trạng thái “Đã đóng”"}'
    )
    english = translator("en")
    assert english(error.detail) == "Cannot close a request whose status is “Closed”"
    assert translator("vi")(error.detail) == error.detail
    # A plain string given to an error is a message too; a list shows as one.
    assert english(NotFound("Không tìm thấy").detail) == english("Không tìm thấy")
    listed = msg(
        "Không thể gộp, không có yêu cầu nào bị thay đổi: {cases}",
        cases=(msg("{code} (“{status}”)", code="A", status=status),),
    )
    assert listed == "Không thể gộp, không có yêu cầu nào bị thay đổi: A (“Đã đóng”)"
    assert english(listed).endswith(": A (“Closed”)")
    assert pickle.loads(pickle.dumps(listed)).template == listed.template


async def test_a_page_shows_a_service_error_and_labels_in_english(client, world) -> None:
    """The case page in English: the status label and the refusal of a stale action
    come from Python (cases/transitions.py, cases/versions.py); the API stays Vietnamese."""
    case = await create(client, world)
    code = case["code"]
    transport = httpx.ASGITransport(app=client._transport.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as browser:
        page = await browser.get("/login")
        await browser.post(
            "/login",
            data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
        )
        csrf = _csrf_of((await browser.get("/")).text)
        await browser.post("/lang", data={"lang": "en", "next": "/", "csrf": csrf})
        html = (await browser.get(f"/cases/{code}")).text
        assert '<span class="tag" id="case-status">New</span>' in html
        version = re.search(r'name="expected_version" value="(\d+)"', html)
        assert version
        await ok(client, world, "supervisor", code, "take")  # someone else acts meanwhile
        r = await browser.post(
            f"/cases/{code}/act/take",
            data={"csrf": csrf, "expected_version": version.group(1)},
        )
        assert r.status_code == 409
        assert "was updated by someone else after you opened it" in r.text
        assert STALE not in r.text
    # The API keeps its Vietnamese problem details.
    r = await client.post(f"/api/v1/cases/{code}/accept", headers=world.auth("operator"))
    assert r.status_code == 409
    assert r.json()["detail"] == "Không thể tiếp nhận yêu cầu đang ở trạng thái “Đang xử lý”"


def _translations_by_domain() -> dict[str, dict[str, str]]:
    """Each message id's English in each domain catalogue that has it."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(PACKAGE.glob("*/locale/en.po")):
        with path.open("rb") as f:
            for message in read_po(f, locale="en"):
                if message.id and isinstance(message.id, str) and message.string:
                    found.setdefault(message.id, {})[path.parts[-3]] = str(message.string)
    return found


def test_a_page_reads_its_own_domains_english_first() -> None:
    """One Vietnamese text in two senses ("Mục": a configuration item, a report's section)
    gets each domain's own English on that domain's pages and in its downloads, messages
    built in Python included (a template prints them through its own `_`)."""
    assert translator("en", "phoneconfig")("Mục") == "Item"
    assert translator("en", "reports")("Mục") == "Section"
    assert translator("en", "reports")(msg("Mục")) == "Section"
    senses = {
        m: where for m, where in _translations_by_domain().items() if len(set(where.values())) > 1
    }
    # Where the senses differ, each domain has its own English (no domain borrows another's).
    for message, where in senses.items():
        for domain, english in where.items():
            assert translator("en", domain)(message) == english
