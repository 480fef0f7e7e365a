"""A page request the app-wide checks refuse (a NUL, a number beyond 64 bits, a path that
names nothing, a role not allowed) gets the refusal page in the page's language, not
problem+json; the API keeps problem+json, in the language of the `lang` cookie if any."""

from __future__ import annotations

import re

import pytest

from hotline.web.i18n import catalogue
from tests.admin.helpers import csrf_of, page_client
from tests.cases.helpers import create
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio
HUGE = "99999999999999999999"


def refusal_of(r) -> str:
    assert r.headers["content-type"].startswith("text/html"), r.text[:300]
    match = re.search(r'<p id="refusal">(.*?)</p>', r.text, re.S)
    assert match, r.text[:1000]
    return match.group(1)


async def english(client) -> None:
    """The cookie POST /lang sets (tests/web/test_i18n.py tests the switch itself)."""
    client.cookies.set("lang", "en")


async def test_a_form_value_the_database_refuses_is_a_page_in_the_pages_language(app, world):
    """A form that does not show itself again (tests/web/test_form_refusals.py: those that
    do) refuses an unstorable value with the refusal page, in the page's language."""
    admin = await page_client(app, "admin")
    url = "/admin/categories"
    page = (await admin.get(url)).text
    data = {"csrf": csrf_of(page), "forward_hours": HUGE, "active": "1"}
    r = await admin.post(
        "/admin/categories/khac", data=data, headers={"Referer": f"http://test{url}"}
    )
    assert r.status_code == 422
    assert "<h2" in r.text and "Dữ liệu không hợp lệ" in r.text
    # Which of the two depends on the engine's own words for it.
    assert refusal_of(r) in (
        "Giá trị không lưu được (quá dài, quá lớn hoặc sai dạng)",
        "Giá trị vượt quá giới hạn lưu trữ",
    )
    assert f'href="{url}"' in r.text  # back to the form
    await english(admin)
    r = await admin.post("/admin/categories/khac", data=data)
    assert r.status_code == 422 and "Invalid data" in r.text
    assert refusal_of(r).startswith(("The value cannot be stored", "The value exceeds"))


async def test_a_nul_in_a_form_that_keeps_no_typing_is_a_page(app, client, world):
    case = await create(client, world)
    operator = await page_client(app, "operator")
    url = f"/cases/{case['code']}"
    page = (await operator.get(url)).text
    data = {"csrf": csrf_of(page), "expected_version": "1", "duplicates": "HL\x00"}
    r = await operator.post(f"{url}/merge", data=data)
    assert r.status_code == 422
    assert "Không được chứa ký tự NUL" in refusal_of(r)
    await english(operator)
    r = await operator.post(f"{url}/merge", data=data)
    assert r.status_code == 422 and "Must not contain the NUL character" in refusal_of(r)


async def test_refused_and_unknown_pages_are_pages_in_the_pages_language(app, world):
    supervisor = await page_client(app, "supervisor")
    r = await supervisor.get("/inbox")
    assert r.status_code == 403 and "Không có quyền truy cập" in r.text and refusal_of(r)
    admin = await page_client(app, "admin")
    r = await admin.get("/admin/users/abc")
    assert r.status_code == 404
    assert "Không có trang này" in refusal_of(r) and "Input should be" not in r.text
    r = await admin.get("/khong-co-trang-nay")
    assert r.status_code == 404 and "Không có trang này" in refusal_of(r)
    await english(admin)
    r = await admin.get("/admin/users/abc")
    assert r.status_code == 404 and "There is no such page" in refusal_of(r)
    await english(supervisor)
    r = await supervisor.get("/inbox")
    assert r.status_code == 403 and "Access refused" in r.text
    # A script asking for JSON, and the API, keep problem+json.
    r = await admin.get("/admin/users/abc", headers={"Accept": "application/json"})
    assert r.headers["content-type"] == "application/problem+json"
    r = await admin.get("/api/v1/cases/abc")
    assert r.headers["content-type"] == "application/problem+json"


async def test_the_api_speaks_the_language_of_the_lang_cookie(client, world):
    body = new_case_body(contact={"name": "Lan", "phone": "12"})
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    vietnamese = r.json()
    assert r.status_code == 422 and vietnamese["detail"] == "Số điện thoại không hợp lệ: “12”"
    assert vietnamese["title"] == "Dữ liệu không hợp lệ"
    client.cookies.set("lang", "en")
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    shown = r.json()
    assert r.status_code == 422 and shown["title"] == "Invalid data", shown
    assert shown["detail"] == english_of("Số điện thoại không hợp lệ: “{raw}”").format(raw="12")
    assert shown["errors"][0]["message"] == shown["detail"]
    # The app-wide input check too.
    r = await client.get("/api/v1/cases", params={"q": "a\x00"}, headers=world.auth("operator"))
    assert r.status_code == 422 and "Must not contain the NUL character" in r.text
    client.cookies.delete("lang")
    r = await client.get("/api/v1/cases", params={"q": "a\x00"}, headers=world.auth("operator"))
    assert r.status_code == 422 and "Không được chứa ký tự NUL" in r.json()["detail"]


def english_of(template: str) -> str:
    english = catalogue("en").get(template)
    assert english and "không" not in english.lower()
    return english


async def test_a_nul_in_a_pages_address_names_that_part_and_keeps_the_header(app, world):
    supervisor = await page_client(app, "supervisor")
    r = await supervisor.get("/dashboard?x=%00")
    assert r.status_code == 422
    assert "Tham số “x” trong địa chỉ trang: Không được chứa ký tự NUL" in refusal_of(r)
    assert 'href="/dashboard"' in r.text  # the header's links, as on every page
    await english(supervisor)
    r = await supervisor.get("/dashboard?x=%00")
    assert "Parameter “x” of the page’s address: Must not contain" in refusal_of(r)
    assert 'href="/dashboard"' in r.text


async def test_an_unknown_codes_refusal_repeats_only_its_beginning(app, world):
    operator = await page_client(app, "operator")
    r = await operator.get("/cases/" + "A" * 10_000)
    assert r.status_code == 404
    shown = re.findall(r"<code>([^<]*)</code>", r.text)
    assert shown == ["A" * 40 + "…"], shown
    r = await operator.get("/api/v1/cases/" + "B" * 10_000)
    assert r.status_code == 404 and "B" * 40 + "…" in r.json()["detail"]


async def test_the_apis_validation_messages_follow_the_lang_cookie(client, world):
    body = new_case_body(address="x" * 301, bogus=1)
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    said = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert said == {"address": "Chuỗi dài tối đa 300 ký tự", "bogus": "Không nhận trường này"}
    client.cookies.set("lang", "en")
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    said = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert said == {
        "address": "String should have at most 300 characters",
        "bogus": "Extra inputs are not permitted",
    }
    client.cookies.delete("lang")
    r = await client.get("/api/v1/cases?limit=abc", headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "limit", "message": "Phải là số nguyên"}]
