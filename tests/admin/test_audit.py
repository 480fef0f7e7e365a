"""The administrators' audit trail: each change to an account, a category, a unit or the
active triage model writes exactly one entry naming who made it, in the transaction of the
change (a refused change writes none); the pages show it and the API returns it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from hotline.auth.models import AdminChange
from hotline.triage.models import TriageModel as TriageModelRow
from tests.admin.helpers import page_client, post_form
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio
CHANGES = "/api/v1/admin/changes"
SECRET_WORDS = ("password_hash", "sip_ha1", "argon2", PASSWORD)


async def _entries(app: Any) -> list[AdminChange]:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return list((await session.scalars(select(AdminChange).order_by(AdminChange.id))).all())


async def _id_of(client: Any, world: Any, who: str) -> int:
    r = await client.get("/api/v1/users/me", headers=world.auth(who))
    return int(r.json()["id"])


async def _one_new(app: Any, before: int) -> AdminChange:
    """The change just made wrote exactly one entry; that entry."""
    entries = await _entries(app)
    assert len(entries) == before + 1, [(e.kind, e.key, e.action) for e in entries[before:]]
    entry = entries[-1]
    stored = json.dumps([entry.before, entry.after], ensure_ascii=False)
    assert not any(word in stored for word in SECRET_WORDS), stored
    return entry


async def test_each_account_change_writes_one_entry_naming_the_administrator(app, client, world):
    admin_id = await _id_of(client, world, "admin")
    admin = await page_client(app, "admin")
    n = len(await _entries(app))
    r = await post_form(
        admin,
        "/admin/users",
        "/admin/users",
        username="lan",
        full_name="Trần Lan",
        role="operator",
        unit="",
        password="mat-khau-lan-1022",
    )
    assert r.status_code == 303, r.text
    lan = int(r.headers["location"].split("/")[3].split("?")[0])
    entry = await _one_new(app, n)
    assert (entry.user_id, entry.kind, entry.key, entry.action) == (
        admin_id,
        "user",
        str(lan),
        "create",
    )
    assert entry.before is None
    assert entry.after == {
        "username": "lan",
        "full_name": "Trần Lan",
        "role": "operator",
        "unit_id": None,
        "active": True,
    }

    page = f"/admin/users/{lan}"
    steps: list[tuple[str, dict[str, str], str, Any, Any]] = [
        ("/active", {"active": "0"}, "disable", {"active": True}, {"active": False}),
        ("/active", {"active": "1"}, "enable", {"active": False}, {"active": True}),
        ("/password", {"password": "mat-khau-moi-1022"}, "password", None, None),
        ("/revoke", {}, "revoke", None, {"tokens_ended": 0, "sessions_ended": 0}),
        (
            "/sip",
            {"sip_username": "lan-201", "sip_password": "sip-lan-2011", "sip_uri": ""},
            "sip",
            {"sip_username": None, "sip_uri": None},
            {"sip_username": "lan-201", "sip_uri": None},
        ),
    ]
    for path, data, action, before, after in steps:
        n = len(await _entries(app))
        r = await post_form(admin, page, page + path, **data)
        assert r.status_code == 303, (path, r.text)
        entry = await _one_new(app, n)
        assert (entry.user_id, entry.key, entry.action) == (admin_id, str(lan), action)
        assert (entry.before, entry.after) == (before, after)
        assert "sip-lan-2011" not in json.dumps(entry.after)

    # The account's page says who changed it last and lists every change.
    shown = await admin.get(page)
    last = re.search(r'id="last-change">(.*?)</dd>', shown.text, re.S).group(1)
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d · admin", last)
    history = re.search(r'<table class="history" id="history">.*?</table>', shown.text, re.S)
    rows = re.findall(r"<tr><td>.*?</tr>", history.group(0), re.S)
    assert len(rows) == 6 and all(" · admin</td>" in row for row in rows)
    assert "Đã đặt tài khoản SIP" in rows[0] and "lan-201" in rows[0]
    assert "Đã tạo" in rows[-1] and "Trần Lan" in rows[-1]
    listing = await admin.get("/admin/users")
    assert re.search(rf'id="last-{lan}">.*? · admin', listing.text)


async def test_a_refused_account_change_writes_nothing(app, client, world):
    admin_id = await _id_of(client, world, "admin")
    operator_id = await _id_of(client, world, "operator")
    admin = await page_client(app, "admin")
    supervisor = await page_client(app, "supervisor")
    n = len(await _entries(app))
    refused = [
        # A taken username, a short password, the last administrator, a supervisor.
        (admin, "/admin/users", "/admin/users", {"username": "operator", "password": PASSWORD}),
        (admin, f"/admin/users/{operator_id}", f"/admin/users/{operator_id}/password", {}),
        (admin, f"/admin/users/{admin_id}", f"/admin/users/{admin_id}/active", {"active": "0"}),
        (supervisor, "/admin/users", "/admin/users", {"username": "lan", "password": PASSWORD}),
    ]
    for who, page, action, data in refused:
        r = await post_form(who, page, action, role="operator", **data)
        assert r.status_code in (403, 409, 422), (action, r.status_code)
    r = await client.put(
        f"/api/v1/users/{operator_id}/sip",
        json={"username": "có dấu", "password": "12345678"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 422
    assert len(await _entries(app)) == n


async def test_category_and_unit_changes_are_audited_and_shown_on_their_pages(app, client, world):
    admin_id = await _id_of(client, world, "admin")
    n = len(await _entries(app))
    r = await client.patch(
        "/api/v1/categories/khac", json={"forward_hours": 36}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    entry = await _one_new(app, n)
    assert (entry.user_id, entry.kind, entry.key, entry.action) == (
        admin_id,
        "category",
        "khac",
        "update",
    )
    assert entry.before["forward_hours"] != 36 and entry.after["forward_hours"] == 36
    # Saving what is already there is no change.
    r = await client.patch(
        "/api/v1/categories/khac", json={"forward_hours": 36}, headers=world.auth("admin")
    )
    assert r.status_code == 200 and len(await _entries(app)) == n + 1

    unit = {
        "code": "UB-00013",
        "name": "UBND Phường Hoàn Kiếm",
        "type": "ward_committee",
        "ward_codes": ["00004"],
        "categories": ["ho_tro_kho_khan"],
    }
    r = await client.post("/api/v1/units", json=unit, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    entry = await _one_new(app, n + 1)
    assert (entry.user_id, entry.kind, entry.key, entry.action) == (
        admin_id,
        "unit",
        "UB-00013",
        "create",
    )
    assert entry.after["wards"] == ["00004"] and entry.after["categories"] == ["ho_tro_kho_khan"]

    admin = await page_client(app, "admin")
    categories = await admin.get("/admin/categories")
    last = re.search(r'<td id="last-khac">.*?</span>', categories.text, re.S).group(0)
    assert re.search(r"\d\d:\d\d · admin</span>", last)
    history = re.search(r'id="history-khac">.*?</table>', categories.text, re.S).group(0)
    assert re.search(r"Thời hạn \(giờ\): \d+ → 36", history)
    units = await admin.get("/admin/units")
    node = re.search(r'<li id="unit-UB-00013".*?</li>', units.text, re.S).group(0)
    assert re.search(r"\d\d:\d\d · admin</span>", node) and "Đã tạo" in node


async def test_refused_directory_changes_write_nothing(app, client, world):
    n = len(await _entries(app))
    admin = world.auth("admin")
    for path, body in (("khac", {"forward_hours": 0}), ("khong-co", {"forward_hours": 5})):
        r = await client.patch(f"/api/v1/categories/{path}", json=body, headers=admin)
        assert r.status_code in (404, 422)
    r = await client.patch(
        "/api/v1/categories/khac", json={"forward_hours": 5}, headers=world.auth("supervisor")
    )
    assert r.status_code == 403
    # The unit row is written before its unknown ward is found: the whole change rolls back.
    bad = {"code": "UB-X", "name": "X", "type": "ward_committee", "ward_codes": ["99999"]}
    r = await client.post("/api/v1/units", json=bad, headers=admin)
    assert r.status_code == 422
    assert len(await _entries(app)) == n


async def _two_versions(app: Any) -> None:
    """Two stored versions, the first in use (activation reads no model blob)."""
    async with app.state.hotline.unit_of_work() as session:
        for version in (1, 2):
            session.add(
                TriageModelRow(
                    version=version, active=version == 1, checksum=str(version) * 64, blob=b"x"
                )
            )


async def test_activating_a_triage_version_is_audited_with_the_one_it_replaces(app, client, world):
    await _two_versions(app)
    admin_id = await _id_of(client, world, "admin")
    n = len(await _entries(app))
    r = await client.post("/api/v1/triage/models/2/activate", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    entry = await _one_new(app, n)
    assert (entry.user_id, entry.kind, entry.key, entry.action) == (
        admin_id,
        "triage_model",
        "2",
        "activate",
    )
    assert (entry.before, entry.after) == ({"active_version": 1}, {"active_version": 2})
    # Choosing the version in use, a missing version, or a supervisor choosing: nothing.
    for version, who, status in ((2, "admin", 200), (9, "admin", 404), (1, "supervisor", 403)):
        r = await client.post(f"/api/v1/triage/models/{version}/activate", headers=world.auth(who))
        assert r.status_code == status
    assert len(await _entries(app)) == n + 1

    supervisor = await page_client(app, "supervisor")
    page = await supervisor.get("/admin/triage")
    row = re.search(r'<tr id="model-2">.*?</tr>', page.text, re.S).group(0)
    assert re.search(r"chọn lúc <span class=\"last-change\">[^<]* · admin</span>", row)
    history = re.search(r'id="history">.*?</table>', page.text, re.S).group(0)
    assert "Phiên bản dùng: 1 → 2" in history


async def test_the_trail_is_read_through_the_api_by_those_who_may_see_the_objects(
    app, client, world
):
    operator_id = await _id_of(client, world, "operator")
    r = await client.put(
        f"/api/v1/users/{operator_id}/sip",
        json={"username": "op-301", "password": "dien-thoai-301"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 200
    r = await client.patch(
        "/api/v1/categories/khac", json={"active": False}, headers=world.auth("admin")
    )
    assert r.status_code == 200

    r = await client.get(CHANGES, headers=world.auth("admin"))
    assert r.status_code == 200
    assert [(c["kind"], c["action"]) for c in r.json()] == [
        ("category", "update"),
        ("user", "sip"),
    ]
    r = await client.get(
        CHANGES, params={"kind": "user", "key": str(operator_id)}, headers=world.auth("admin")
    )
    [sip] = r.json()
    assert sip["user_name"] == "admin" and sip["after"] == {
        "sip_username": "op-301",
        "sip_uri": None,
    }
    assert "dien-thoai-301" not in r.text and "ha1" not in r.text
    # Supervisors see the accounts, so their trail; not the whole trail nor the directory's.
    r = await client.get(CHANGES, params={"kind": "user"}, headers=world.auth("supervisor"))
    assert r.status_code == 200 and len(r.json()) == 1
    for params in ({}, {"kind": "category"}):
        r = await client.get(CHANGES, params=params, headers=world.auth("supervisor"))
        assert r.status_code == 403
    r = await client.get(CHANGES, headers=world.auth("operator"))
    assert r.status_code == 403
    r = await client.get(CHANGES, params={"kind": "nothing"}, headers=world.auth("admin"))
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = await client.get(CHANGES, params={"key": "1"}, headers=world.auth("admin"))
    assert r.status_code == 422 and r.json()["field"] == "kind"


async def test_an_account_made_on_the_command_line_is_audited_without_a_user(
    app, client, world, database_url, tmp_path
):
    from tests.auth.test_auth import _run_cli

    n = len(await _entries(app))
    result = await _run_cli(
        database_url,
        tmp_path / "var",
        *("--username", "dtv09", "--role", "operator", "--password", "mat-khau-dtv09"),
    )
    assert result.exit_code == 0, result.output
    entry = await _one_new(app, n)
    assert (entry.user_id, entry.kind, entry.action) == (None, "user", "create")
    admin = await page_client(app, "admin")
    page = await admin.get(f"/admin/users/{entry.key}")
    assert "· hệ thống (dòng lệnh)" in page.text
