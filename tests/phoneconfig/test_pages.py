"""The phone configuration edited from /admin/phone: a form per line, menu, destination,
queue (with its opening hours) and prompt, checked by the same service as the API, each
refusal next to its field with what was typed kept, a stale version refused with a clear
message, and each change on the object's history."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests.admin.helpers import csrf_of, page_client
from tests.phoneconfig.test_api import API, menu_body

pytestmark = pytest.mark.anyio
PHONE = "/admin/phone"


async def send(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]
) -> httpx.Response:
    """Open `page`, then post its form to `action` with `data` (lists: repeated fields)
    and the form's version as the page showed it unless `data` names one."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    version = re.search(r'name="version" value="(\d+)"', shown.text)
    fields = {"csrf": csrf_of(shown.text), "version": version.group(1) if version else "0"}
    return await client.post(action, data={**fields, **data})


def error_of(page: str, field: str) -> str:
    found = re.search(
        rf'<p class="error" id="{re.escape(field)}-error" role="alert">(.*?)</p>', page
    )
    assert found, f"no error next to {field}"
    return html.unescape(found.group(1))


def menu_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "greeting": "greeting",
        "digit": ["1", "2", "3", "4", ""],
        "target": ["destination:115", "destination:cdc", "queue:doctor", "queue:operator", ""],
        "repeats": "2",
        "digit_timeout": "5",
        "fallback_queue": "operator",
    }
    return {**form, **overrides}


async def config(client: httpx.AsyncClient, world: Any) -> dict[str, Any]:
    return (await client.get(API, headers=world.auth("admin"))).json()


def item(cfg: dict[str, Any], section: str, key: str) -> dict[str, Any]:
    return next(i for i in cfg[section] if i["key"] == key)


async def test_an_admin_changes_a_menu_from_its_form_and_sees_it_in_the_history(app, client, world):
    admin = await page_client(app, "admin")
    overview = await admin.get(PHONE)
    assert 'href="/admin/phone/menus/main"' in overview.text
    page = await admin.get(f"{PHONE}/menus/main")
    assert page.status_code == 200
    assert 'id="digit-3"' in page.text and 'value="4"' in page.text  # the four built-in keys
    form = menu_form(
        digit=["1", "2", "", "9", ""],
        target=["destination:115", "destination:cdc", "", "queue:operator", ""],
        repeats="3",
        digit_timeout="7,5",
    )
    r = await send(admin, f"{PHONE}/menus/main", f"{PHONE}/menus/main", form)
    assert r.status_code == 303 and r.headers["location"] == f"{PHONE}/menus/main?done=saved"
    menu = item(await config(client, world), "menus", "main")
    assert menu["version"] == 1
    assert [(o["digit"], o["destination"] or o["queue"]) for o in menu["data"]["options"]] == [
        ("1", "115"),
        ("2", "cdc"),
        ("9", "operator"),
    ]
    assert (menu["data"]["repeats"], menu["data"]["digit_timeout"]) == (3, 7.5)
    page = await admin.get(r.headers["location"])
    assert "Đã lưu; tổng đài sẽ dùng cấu hình mới trong giây lát." in page.text
    assert re.search(r'id="version">1<', page.text)
    history = re.search(r'id="history">.*?</table>', page.text, re.S).group(0)
    assert re.search(r"\d\d:\d\d · admin</td><td>Đã sửa</td>", history)
    assert "Số lần nhắc lại: 2 → 3" in history and "9 → operator" in history


async def test_menu_refusals_show_next_to_their_row_and_keep_what_was_typed(app, client, world):
    admin = await page_client(app, "admin")
    page = f"{PHONE}/menus/main"
    # The same key on two rows: the second row's key.
    r = await send(admin, page, page, menu_form(digit=["1", "1", "3", "4", ""], repeats="4"))
    assert r.status_code == 422
    assert "Phím 1 được dùng hai lần" in error_of(r.text, "digit-1")
    assert 'id="repeats" name="repeats" inputmode="numeric" value="4"' in r.text
    # A key with nowhere to send the caller, after an empty row: named on its own row.
    form = menu_form(digit=["1", "", "3", "7"], target=["destination:115", "", "queue:doctor", ""])
    r = await send(admin, page, page, form)
    assert r.status_code == 422 and "Chọn đúng một nơi" in error_of(r.text, "target-3")
    r = await send(admin, page, page, menu_form(repeats="nhiều"))
    assert r.status_code == 422 and error_of(r.text, "repeats") == "Cần một số nguyên"
    r = await send(admin, page, page, menu_form(repeats="9"))
    assert r.status_code == 422 and error_of(r.text, "repeats") == "Tối đa 5"
    r = await send(admin, page, page, menu_form(greeting="khong_co"))
    assert r.status_code == 422 and "Không có lời chào" in error_of(r.text, "greeting")
    assert item(await config(client, world), "menus", "main")["version"] == 0


async def test_a_stale_version_is_refused_with_a_clear_message_and_the_text_kept(
    app, client, world
):
    admin = await page_client(app, "admin")
    shown = await admin.get(f"{PHONE}/menus/main")
    assert 'name="version" value="0"' in shown.text
    # Someone else changes the menu meanwhile (through the API).
    r = await client.put(f"{API}/menus/main", json=menu_body(), headers=world.auth("admin"))
    assert r.status_code == 200
    form = {"csrf": csrf_of(shown.text), "version": "0", **menu_form(repeats="4")}
    r = await admin.post(f"{PHONE}/menus/main", data=form)
    assert r.status_code == 409
    alert = re.search(r'id="form-error">(.*?)</div>', r.text, re.S).group(1)
    assert "Cấu hình đã được người khác sửa (phiên bản hiện tại 1)" in alert
    assert 'href="/admin/phone/menus/main">Tải lại trang</a>' in alert
    assert 'value="4"' in r.text  # what was typed
    assert item(await config(client, world), "menus", "main")["data"]["repeats"] == 2


async def test_lines_are_added_and_edited_from_their_forms(app, client, world):
    admin = await page_client(app, "admin")
    new = f"{PHONE}/new/lines"
    r = await send(admin, new, new, {"key": "19 00", "menu": "main"})
    assert r.status_code == 422 and "Số đường dây chỉ gồm" in error_of(r.text, "key")
    assert 'id="key" name="key" required maxlength="20" autocomplete="off" value="19 00"' in r.text
    r = await send(admin, new, new, {"key": "1022", "menu": "main"})  # a built-in number
    assert r.status_code == 409 and "Đã có mục tên '1022'" in error_of(r.text, "key")
    r = await send(admin, new, new, {"key": "19001022", "menu": "main", "record": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"{PHONE}/lines/19001022")
    line = item(await config(client, world), "lines", "19001022")
    assert line["version"] == 1 and line["data"] == {
        "number": "19001022",
        "menu": "main",
        "record": True,
    }
    page = f"{PHONE}/lines/19001022"
    r = await send(admin, page, page, {"menu": "khong_co"})
    assert r.status_code == 422 and "Không có menu 'khong_co'" in error_of(r.text, "menu")
    r = await send(admin, page, page, {"menu": "main"})  # the box left unticked
    assert r.status_code == 303
    assert item(await config(client, world), "lines", "19001022")["data"]["record"] is False
    shown = await admin.get(page)
    assert "Đã tạo" in shown.text and "Ghi âm: có → không" in shown.text


async def test_destinations_are_checked_as_the_api_checks_them(app, client, world):
    admin = await page_client(app, "admin")
    page = f"{PHONE}/destinations/115"
    form = {"uri": "khong-phai-sip", "refer": "1", "outcome": "transferred_115"}
    r = await send(admin, page, page, form)
    assert r.status_code == 422 and "Địa chỉ SIP" in error_of(r.text, "uri")
    assert 'value="khong-phai-sip"' in r.text
    r = await send(admin, page, page, {**form, "uri": "sip:115@benhvien.example", "refer": ""})
    assert r.status_code == 422 and "cần địa chỉ IP" in error_of(r.text, "uri")
    r = await send(admin, page, page, {**form, "uri": "sip:115@10.0.0.5", "refer": ""})
    assert r.status_code == 303
    data = item(await config(client, world), "destinations", "115")["data"]
    assert (data["uri"], data["refer"]) == ("sip:115@10.0.0.5", False)
    assert data["fallback_after"] == 3.0  # left empty: the default
    shown = await admin.get(page)
    assert 'name="fallback_after" inputmode="decimal" value="3"' in shown.text
    r = await send(admin, page, page, {**form, "uri": "sip:115@10.0.0.5", "fallback_after": "0"})
    assert r.status_code == 422 and error_of(r.text, "fallback_after")
    r = await send(admin, page, page, {**form, "uri": "sip:115@10.0.0.5", "fallback_after": "2,5"})
    assert r.status_code == 303
    data = item(await config(client, world), "destinations", "115")["data"]
    assert data["fallback_after"] == 2.5
    assert (data["progress_after"], data["ring_seconds"]) == (4.0, 30.0)  # the defaults
    shown = await admin.get(page)
    assert 'name="progress_after" inputmode="decimal" value="4"' in shown.text
    assert 'name="ring_seconds" inputmode="decimal" value="30"' in shown.text
    bad = {**form, "uri": "sip:115@10.0.0.5", "progress_after": "0,1", "ring_seconds": "500"}
    r = await send(admin, page, page, bad)
    assert r.status_code == 422 and error_of(r.text, "progress_after")
    r = await send(admin, page, page, {**bad, "progress_after": "2"})
    assert r.status_code == 422 and error_of(r.text, "ring_seconds")
    r = await send(admin, page, page, {**bad, "progress_after": "2", "ring_seconds": "20"})
    assert r.status_code == 303
    data = item(await config(client, world), "destinations", "115")["data"]
    assert (data["progress_after"], data["ring_seconds"]) == (2.0, 20.0)


async def test_opening_hours_are_edited_on_the_queue_form(app, client, world):
    admin = await page_client(app, "admin")
    page = f"{PHONE}/queues/doctor"
    shown = await admin.get(page)  # the built-in hours (HOTLINE_SIP_OPENING_HOURS)
    assert 'name="hours_mode" value="windows" id="hours-windows" checked' in shown.text
    assert "09:00-11:00\n15:00-17:00\n19:00-21:00</textarea>" in shown.text
    form = {"label": "Tư vấn bác sĩ", "callback_after": "60", "hours_mode": "windows"}
    r = await send(admin, page, page, {**form, "hours": "07:00-12:00\n11:00-17:00"})
    assert r.status_code == 422
    assert error_of(r.text, "hours") == "11:00-17:00: Trùng với khung giờ thứ 1"
    assert "07:00-12:00\n11:00-17:00</textarea>" in r.text
    r = await send(admin, page, page, {**form, "hours": "7h-12h"})
    assert r.status_code == 422 and "HH:MM-HH:MM" in error_of(r.text, "hours")
    r = await send(admin, page, page, {**form, "hours": "07:00-11:30\n\n13:30-17:00\n"})
    assert r.status_code == 303
    data = item(await config(client, world), "queues", "doctor")["data"]
    assert data["hours"] == ["07:00-11:30", "13:30-17:00"]
    r = await send(admin, page, page, {**form, "hours_mode": "always", "hours": "07:00-11:30"})
    assert r.status_code == 303
    assert item(await config(client, world), "queues", "doctor")["data"]["hours"] is None
    r = await send(admin, page, page, {**form, "callback_after": "0"})
    assert r.status_code == 422 and error_of(r.text, "callback_after") == "Phải lớn hơn 0"


async def test_the_queue_form_keeps_what_only_the_api_sets(app, client, world):
    admin = await page_client(app, "admin")
    page = f"{PHONE}/queues/violations"
    form = {"label": "Tiếp nhận phản ánh", "callback_after": "45", "hours_mode": "always"}
    r = await send(admin, page, page, form)
    assert r.status_code == 303, r.text
    data = item(await config(client, world), "queues", "violations")["data"]
    assert (data["label"], data["callback_after"]) == ("Tiếp nhận phản ánh", 45)
    # Members, the overflow to voicemail and its category are as they were.
    assert data["members"]["roles"] == ["operator", "supervisor"]
    assert data["overflow"]["voicemail"] is True
    assert data["category"] == "phan_anh_vi_pham"


async def test_a_menu_key_goes_to_a_sub_menu_or_voicemail_from_the_form(app, client, world):
    admin = await page_client(app, "admin")
    r = await client.put(
        f"{API}/menus/support",
        json={"version": 0, "options": [{"digit": "1", "queue": "operator"}]},
        headers=world.auth("admin"),
    )
    assert r.status_code == 200, r.text
    page = f"{PHONE}/menus/main"
    form = menu_form(
        digit=["1", "2", "3", "4", "5", "0"],
        target=[
            "destination:115",
            "destination:cdc",
            "queue:doctor",
            "queue:violations",
            "menu:support",
            "voicemail:",
        ],
    )
    r = await send(admin, page, page, form)
    assert r.status_code == 303, r.text
    options = item(await config(client, world), "menus", "main")["data"]["options"]
    assert [(o["digit"], o["menu"], o["voicemail"]) for o in options[4:]] == [
        ("5", "support", False),
        ("0", None, True),
    ]
    shown = await admin.get(page)  # shown as chosen, so saving again keeps them
    assert '<option value="menu:support" selected>' in shown.text
    assert '<option value="voicemail:" selected>' in shown.text


async def test_a_prompts_words_are_edited_and_a_new_prompt_added(app, client, world):
    admin = await page_client(app, "admin")
    page = f"{PHONE}/prompts/invalid"
    r = await send(admin, page, page, {"text": "   "})
    assert r.status_code == 422 and error_of(r.text, "text") == "Không được để trống"
    r = await send(admin, page, page, {"text": "Phím bạn bấm chưa đúng, mời bấm lại."})
    assert r.status_code == 303
    prompt = item(await config(client, world), "prompts", "invalid")
    assert prompt["data"]["text"] == "Phím bạn bấm chưa đúng, mời bấm lại."
    new = f"{PHONE}/new/prompts"
    r = await send(admin, new, new, {"key": "tet", "text": "Chúc mừng năm mới."})
    assert r.status_code == 303
    assert item(await config(client, world), "prompts", "tet")["version"] == 1


async def test_supervisors_and_expired_forms_change_nothing(app, client, world):
    supervisor = await page_client(app, "supervisor")
    r = await supervisor.get(f"{PHONE}/menus/main")
    assert r.status_code == 403 and "Chỉ quản trị viên được cấu hình tổng đài" in r.text
    home = await supervisor.get("/admin")
    r = await supervisor.post(
        f"{PHONE}/menus/main", data={"csrf": csrf_of(home.text), "version": "0", **menu_form()}
    )
    assert r.status_code == 403 and "Chỉ quản trị viên được cấu hình tổng đài" in r.text
    admin = await page_client(app, "admin")
    r = await admin.post(f"{PHONE}/menus/main", data={"csrf": "forged", **menu_form()})
    assert r.status_code == 400 and "Phiên làm việc đã hết hạn" in r.text
    r = await admin.get(f"{PHONE}/menus/khong_co")
    assert r.status_code == 404
    r = await admin.get(f"{PHONE}/bogus/main")
    assert r.status_code == 404
    assert (await client.get(f"{API}/changes", headers=world.auth("admin"))).json() == []
