"""One permissions module (hotline/auth/permissions.py), checked inside the services: routes
hold no role logic, and each permission answers the same through the API for every role."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cases.helpers import create
from tests.conftest import PASSWORD

SRC = Path(__file__).resolve().parents[2] / "src" / "hotline"
ROUTE_MODULES = ("api.py", "pages.py")
# The `hotline` command: one module per command family.
CLI = SRC / "cli"
# Role logic a route might hold: naming a role, comparing an actor's or user's role, the old
# staff shortcut, or refusing by itself instead of letting the service refuse.
# Deciding is role logic; a page showing the refusal a service raised (`except NotAllowed`)
# is not, so only making one (`NotAllowed(`) counts.
ROLE_LOGIC = re.compile(
    r"\bRole\.|\bNotAllowed\(|\bis_hotline_staff\b|\.role\s*(?:==|!=|\bin\b|\bnot\s+in\b|\bis\b)"
)

ROLES = ("admin", "supervisor", "operator", "officer", "colleague", "outsider", "doctor")
STAFF = {"admin", "supervisor", "operator"}
LEADS = {"admin", "supervisor"}
ADMINS = {"admin"}

pytestmark = pytest.mark.anyio


def test_no_route_module_holds_role_logic():
    route_files = sorted(p for p in SRC.rglob("*.py") if p.name in ROUTE_MODULES)
    assert len(route_files) > 10
    cli_files = sorted(CLI.glob("*.py"))
    assert cli_files
    route_files += cli_files
    offending = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in route_files
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ROLE_LOGIC.search(line)
    ]
    assert offending == []


def test_every_permission_has_roles_and_a_vietnamese_refusal():
    from hotline.auth.permissions import REFUSALS, ROLES, Permission

    assert set(ROLES) == set(Permission) == set(REFUSALS)
    assert all(ROLES[p] for p in Permission)


async def _status(client, world, who: str, method: str, url: str, **kw: Any) -> int:
    r = await client.request(method, url, headers=world.auth(who), **kw)
    return r.status_code


async def _allowed(client, world, expected_ok: int, method: str, url: str, **kw: Any) -> set[str]:
    """The roles answered `expected_ok`; every other answer must be a 403 problem."""
    allowed = set()
    for who in ROLES:
        r = await client.request(method, url, headers=world.auth(who), **kw)
        if r.status_code == expected_ok:
            allowed.add(who)
        else:
            assert r.status_code == 403, (who, url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["detail"]
    return allowed


async def test_view_users(client, world):
    assert await _allowed(client, world, 200, "GET", "/api/v1/users") == LEADS


async def test_manage_users(client, world):
    allowed = set()
    for who in ROLES:
        body = {"username": f"new-{who}", "password": PASSWORD, "role": "operator"}
        status = await _status(client, world, who, "POST", "/api/v1/users", json=body)
        assert status in (201, 403), (who, status)
        if status == 201:
            allowed.add(who)
    assert allowed == ADMINS


async def test_read_reports(client, world):
    today = date.today().isoformat()
    params = {"from": today, "to": today}
    got = await _allowed(client, world, 200, "GET", "/api/v1/reports/summary", params=params)
    assert got == STAFF


async def test_handle_cases_open(client, world):
    from tests.conftest import new_case_body

    got = await _allowed(client, world, 201, "POST", "/api/v1/cases", json=new_case_body())
    assert got == STAFF


async def test_see_all_cases(client, world):
    code = (await create(client, world))["code"]
    seen = set()
    for who in ROLES:
        status = await _status(client, world, who, "GET", f"/api/v1/cases/{code}")
        assert status in (200, 404), (who, status)  # not seen: NotFound, never Forbidden
        if status == 200:
            seen.add(who)
    assert seen == STAFF


async def test_read_contacts(client, world):
    await create(client, world)
    params = {"phone": "0912345678"}
    got = await _allowed(client, world, 200, "GET", "/api/v1/contacts/lookup", params=params)
    assert got == STAFF
    created = set()
    for n, who in enumerate(ROLES):
        body = {"name": "Lê Văn Cường", "phones": [f"098711122{n}"]}
        status = await _status(client, world, who, "POST", "/api/v1/contacts", json=body)
        assert status in (201, 403), (who, status)
        if status == 201:
            created.add(who)
    assert created == STAFF


async def test_audit_personal_data(client, world):
    contact_id = (await create(client, world))["contact_id"]
    got = await _allowed(client, world, 200, "GET", f"/api/v1/contacts/{contact_id}/reads")
    assert got == LEADS


async def test_record_calls(client, world):
    assert await _allowed(client, world, 200, "GET", "/api/v1/calls") == STAFF
    assert await _allowed(client, world, 200, "GET", "/api/v1/callbacks") == STAFF


async def test_use_suggestions(client, world):
    body = {"text": "Bố tôi khó thở"}
    assert await _allowed(client, world, 200, "POST", "/api/v1/triage", json=body) == STAFF
    url = "/api/v1/cases/duplicates/suggest"
    assert await _allowed(client, world, 200, "POST", url, json=body) == STAFF


async def test_merge_duplicates(client, world):
    assert await _allowed(client, world, 200, "GET", "/api/v1/duplicates/clusters") == LEADS


async def test_edit_knowledge(client, world):
    params = {"status": "draft"}
    got = await _allowed(client, world, 200, "GET", "/api/v1/knowledge/articles", params=params)
    assert got == LEADS


async def test_supervise_agents(client, world):
    assert await _allowed(client, world, 200, "GET", "/api/v1/agents") == LEADS


async def test_configure_phone(client, world):
    assert await _allowed(client, world, 200, "GET", "/api/v1/phone") == ADMINS


async def test_manage_directory(client, world):
    body = {"forward_hours": 48}
    got = await _allowed(client, world, 200, "PATCH", "/api/v1/categories/khac", json=body)
    assert got == ADMINS


async def test_triage_models(client, world):
    assert await _allowed(client, world, 200, "GET", "/api/v1/triage/models") == LEADS
    url = "/api/v1/triage/models/999/activate"
    # The administrator passes the check and is told there is no such version.
    assert await _allowed(client, world, 404, "POST", url) == ADMINS


async def test_a_staff_name_hiding_characters_is_refused_naming_it(client, world):
    """Staff names show on rosters, swap lists and case trails: no bidi override or
    zero-width mark may hide in one, as in a citizen's."""
    for name in ("A \u202eabc", "Lan\u200b Anh", "Tổ\u2066trưởng"):
        body = {"username": "hidden-name", "password": PASSWORD, "role": "operator"}
        r = await client.post(
            "/api/v1/users", json=body | {"full_name": name}, headers=world.auth("admin")
        )
        assert r.status_code == 422, (name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "full_name" in r.text, r.text
    r = await client.post(
        "/api/v1/users",
        json={
            "username": "plain-name",
            "password": PASSWORD,
            "role": "operator",
            "full_name": "  Nguyễn  Lan ",
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["full_name"] == "Nguyễn Lan"
