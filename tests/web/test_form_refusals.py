"""A value no column can keep (a NUL character, a number beyond any deadline) typed into a
page's form brings the form back with the message next to the field and everything typed
kept, like any other mistake on that form, never the refusal page that loses it. The NUL
itself is taken out of what is shown again (a browser would turn it into U+FFFD)."""

from __future__ import annotations

import html
import re

import pytest

from hotline.web.i18n import catalogue
from tests.admin.helpers import csrf_of, page_client
from tests.cases.helpers import create
from tests.portal.test_portal import case_count, report

pytestmark = pytest.mark.anyio

NUL_REMOVED = (
    "Có ký tự NUL (\\x00), không lưu được: ký tự đó đã được bỏ đi, vui lòng xem lại rồi gửi lại"
)
TWENTY_DIGITS = "9" * 20


def error_of(page: str, field: str) -> str:
    match = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', page)
    assert match, f"no error next to {field}"
    return html.unescape(match.group(1))


def english(template: str) -> str:
    return catalogue("en")[template]


def assert_form_again(r) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert 'id="refusal"' not in r.text
    return html.unescape(r.text)


async def test_the_portal_form_keeps_everything_typed_around_a_nul_and_a_long_phone(app, client):
    page = await client.get("/phan-anh")
    typed = report(
        description="Cống trước nhà\x00 bị tắc, nước thải tràn ra đường",
        name="Nguyễn\x00 Thị Hoa",
        phone=TWENTY_DIGITS,
    )
    r = await client.post("/phan-anh", data=typed | {"csrf": csrf_of(page.text)})
    shown = assert_form_again(r)
    assert error_of(shown, "description") == NUL_REMOVED
    assert error_of(shown, "name") == NUL_REMOVED
    assert error_of(shown, "phone") == "Số điện thoại không hợp lệ (ví dụ 0912345678)."
    assert ">Cống trước nhà bị tắc, nước thải tràn ra đường</textarea>" in shown
    for kept in ('value="Nguyễn Thị Hoa"', f'value="{TWENTY_DIGITS}"', 'value="Số 12 ngõ 34'):
        assert kept in shown
    assert '<option value="khac" selected>' in shown and 'name="public" value="1" checked' in shown
    assert "\x00" not in r.text
    assert await case_count(app) == 0

    # In English when the citizen chose it; and the app's script gets the fields by name.
    client.cookies.set("lang", "en")
    r = await client.post("/phan-anh", data=typed | {"csrf": csrf_of(page.text)})
    assert error_of(assert_form_again(r), "name") == english(NUL_REMOVED)
    r = await client.post(
        "/phan-anh",
        data=typed | {"csrf": csrf_of(page.text)},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"description", "name", "phone"}
    assert await case_count(app) == 0

    # Once the NUL is gone (what the form shows again), the report goes through.
    fixed = report(description="Cống trước nhà bị tắc, nước thải tràn ra đường")
    r = await client.post(
        "/phan-anh", data=fixed | {"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert r.status_code == 303 and await case_count(app) == 1


async def test_the_tracking_form_keeps_the_code_around_a_nul(client):
    page = await client.get("/tra-cuu")
    r = await client.post(
        "/tra-cuu", data={"code": "HL\x00-123", "secret": "AB\x00C", "csrf": csrf_of(page.text)}
    )
    shown = assert_form_again(r)
    assert error_of(shown, "track") == NUL_REMOVED
    assert 'value="HL-123"' in shown


async def _case_page(app, client, world):  # type: ignore[no-untyped-def]
    case = await create(client, world)
    operator = await page_client(app, "operator")
    url = f"/cases/{case['code']}"
    page = (await operator.get(url)).text
    fields = {
        "csrf": csrf_of(page),
        "expected_version": re.search(r'name="expected_version" value="(\d+)"', page).group(1),
    }
    return operator, url, fields


async def test_the_forward_form_keeps_the_units_deadline_and_note(app, client, world):
    operator, url, fields = await _case_page(app, client, world)
    unit = str(world.units["ward_a"])
    data = {**fields, "unit_id": unit, "deadline_hours": TWENTY_DIGITS, "note": "Gọi lại cho dân"}
    r = await operator.post(f"{url}/act/forward", data=data)
    shown = assert_form_again(r)
    assert error_of(shown, "deadline_hours") == "Thời hạn phải từ 1 đến 2160 giờ"
    assert f'name="deadline_hours" inputmode="numeric" value="{TWENTY_DIGITS}"' in shown
    assert ">Gọi lại cho dân</textarea>" in shown
    assert f'value="{unit}" checked' in shown

    r = await operator.post(
        f"{url}/act/forward", data={**data, "deadline_hours": "48", "note": "Gọi lại\x00 cho dân"}
    )
    shown = assert_form_again(r)
    assert error_of(shown, "note") == NUL_REMOVED
    assert 'value="48"' in shown and ">Gọi lại cho dân</textarea>" in shown

    operator.cookies.set("lang", "en")
    r = await operator.post(f"{url}/act/forward", data=data)
    assert (
        error_of(assert_form_again(r), "deadline_hours")
        == "The deadline must be from 1 to 2160 hours"
    )
    # Nothing was forwarded meanwhile: the page still offers it.
    assert (
        await client.get(f"/api/v1/cases/{url.rsplit('/', 1)[1]}", headers=world.auth("operator"))
    ).json()["status"] == "new"


async def test_the_note_and_reason_forms_keep_the_text_around_a_nul(app, client, world):
    operator, url, fields = await _case_page(app, client, world)
    r = await operator.post(
        f"{url}/notes",
        data={"csrf": fields["csrf"], "text": "Đã gọi\x00 cho người dân", "visibility": "internal"},
    )
    shown = assert_form_again(r)
    assert error_of(shown, "text") == NUL_REMOVED
    assert ">Đã gọi cho người dân</textarea>" in shown

    r = await operator.post(
        f"{url}/act/reject", data={**fields, "reason": "Không\x00 thuộc thẩm quyền"}
    )
    shown = assert_form_again(r)
    assert error_of(shown, "reason") == NUL_REMOVED
    assert ">Không thuộc thẩm quyền</textarea>" in shown
