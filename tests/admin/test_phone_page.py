"""The phone line's settings at /admin/phone: every object with its version and a link to
its form, and the latest changes with who made them (tests/phoneconfig/test_pages.py edits
them)."""

from __future__ import annotations

import re

import pytest

from tests.admin.helpers import page_client
from tests.phoneconfig.test_api import API, menu_body

pytestmark = pytest.mark.anyio


async def test_admins_see_the_settings_and_who_changed_them(app, client, world):
    admin = await page_client(app, "admin")
    page = await admin.get("/admin/phone")
    assert page.status_code == 200
    assert "Chưa có thay đổi nào" in page.text and 'id="menu-main"' in page.text
    r = await client.put(
        f"{API}/menus/main", json=menu_body(repeats=3), headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    page = await admin.get("/admin/phone")
    changes = re.search(r'id="h-changes".*?</table>', page.text, re.S).group(0)
    assert re.search(
        r"\d\d/\d\d/\d{4} \d\d:\d\d · admin</td>"
        r"<td><a [^>]*>Menu thoại · main</a></td><td>Đã sửa</td>",
        changes,
    )
    menu = re.search(r'id="menu-main".*?</details>', page.text, re.S).group(0)
    assert "phiên bản 1" in menu and "&#34;repeats&#34;: 3" in menu


async def test_supervisors_are_refused_the_phone_settings(app, world):
    supervisor = await page_client(app, "supervisor")
    index = await supervisor.get("/admin")
    assert 'href="/admin/phone"' not in index.text
    r = await supervisor.get("/admin/phone")
    assert r.status_code == 403 and "Chỉ quản trị viên được cấu hình tổng đài" in r.text
