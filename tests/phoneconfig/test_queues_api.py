"""Queues through the admin API: listed with the built-in four branches, created, changed,
and refused with the field named when they do not fit the rest of the configuration."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio
QUEUES = "/api/v1/phone/queues"


def support(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "support",
        "label": "Hỗ trợ lương thực, nhu yếu phẩm",
        "hours": ["07:00-21:00"],
        "members": {"roles": ["operator"], "skills": ["welfare"]},
        "callback_after": 30,
        "callback_attempts": 2,
        "callback_retry_after": 120,
        "overflow": {"queue": "operator"},
        "overflow_after": 90,
    }
    body.update(overrides)
    return body


async def test_the_built_in_queues_are_listed_with_key_4_s_violations_desk(client, world):
    r = await client.get(QUEUES, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    queues = {q["key"]: q for q in r.json()}
    assert set(queues) == {"operator", "doctor", "violations"}
    violations = queues["violations"]["data"]
    assert violations["members"]["roles"] == ["operator", "supervisor"]
    assert violations["overflow"] == {
        "destination": None,
        "queue": None,
        "menu": None,
        "voicemail": True,
    }
    assert violations["category"] == "phan_anh_vi_pham"
    assert queues["doctor"]["data"]["members"]["roles"] == ["doctor"]


async def test_an_administrator_creates_a_queue_and_a_menu_key_reaches_it(client, world):
    admin = world.auth("admin")
    r = await client.post(QUEUES, json=support(), headers=admin)
    assert r.status_code == 201, r.text
    assert (r.json()["key"], r.json()["version"]) == ("support", 1)
    assert r.json()["data"]["members"]["skills"] == ["welfare"]
    # A second queue of the same name is a conflict, whatever its settings.
    r = await client.post(QUEUES, json=support(label="Khác"), headers=admin)
    assert r.status_code == 409 and r.json()["field"] == "name"
    # Changed with the version read; members left out are kept.
    body = {"version": 1, "label": "Hỗ trợ khó khăn", "callback_offer": False}
    r = await client.put(f"{QUEUES}/support", json=body, headers=admin)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["label"], data["callback_offer"], r.json()["version"]) == (
        "Hỗ trợ khó khăn",
        False,
        2,
    )
    assert data["members"]["skills"] == ["welfare"]
    r = await client.put(f"{QUEUES}/support", json=body, headers=admin)  # version 1 is stale
    assert r.status_code == 409 and r.json()["field"] == "version"
    # Key 2 to the new queue, key 5 to a sub-menu, key 0 to voicemail.
    sub = {
        "version": 0,
        "options": [{"digit": "1", "queue": "support"}, {"digit": "2", "destination": "cdc"}],
    }
    r = await client.put("/api/v1/phone/menus/support_menu", json=sub, headers=admin)
    assert r.status_code == 200, r.text
    menu = {
        "version": 0,
        "options": [
            {"digit": "1", "destination": "115"},
            {"digit": "2", "queue": "support"},
            {"digit": "3", "queue": "doctor"},
            {"digit": "4", "queue": "violations"},
            {"digit": "5", "menu": "support_menu"},
            {"digit": "0", "voicemail": True},
        ],
    }
    r = await client.put("/api/v1/phone/menus/main", json=menu, headers=admin)
    assert r.status_code == 200, r.text
    r = await client.get(f"{QUEUES}/support", headers=admin)
    assert r.status_code == 200 and r.json()["version"] == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"overflow": {"queue": "nowhere"}}, "overflow.queue"),
        ({"overflow": {"destination": "nowhere"}}, "overflow.destination"),
        ({"overflow": {"menu": "nowhere"}}, "overflow.menu"),
        ({"overflow": {"queue": "operator", "voicemail": True}}, "overflow"),
        ({"overflow": None, "overflow_after": 60}, "overflow"),
        ({"overflow": {"queue": "support"}}, "overflow.queue"),  # to itself
        ({"members": {"roles": ["citizen"]}}, "members.roles[0]"),
        ({"members": {"units": ["khong_co"]}}, "members.units[0]"),
        ({"category": "khong_co"}, "category"),
        ({"announcement": "khong_co"}, "announcement"),
        ({"hours": ["21:00-07:00"]}, "hours[0]"),
        ({"callback_attempts": 0}, "callback_attempts"),
        ({"name": "Hỗ trợ"}, "name"),
    ],
)
async def test_a_queue_that_does_not_fit_is_422_naming_the_field_and_nothing_is_saved(
    client, world, overrides, field
):
    admin = world.auth("admin")
    r = await client.post(QUEUES, json=support(**overrides), headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    assert (await client.get("/api/v1/phone/changes", headers=admin)).json() == []


async def test_overflow_that_comes_back_round_is_refused(client, world):
    admin = world.auth("admin")
    assert (await client.post(QUEUES, json=support(), headers=admin)).status_code == 201
    # operator -> support -> operator: callers would be passed round for ever.
    body = {"version": 0, "label": "Tổng đài viên", "overflow": {"queue": "support"}}
    r = await client.put(f"{QUEUES}/operator", json=body, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "overflow.queue"
    assert "vòng tròn" in r.json()["detail"]


@pytest.mark.parametrize("who", ["supervisor", "operator", "officer"])
async def test_only_administrators_list_create_or_change_queues(client, world, who):
    headers = world.auth(who)
    assert (await client.get(QUEUES, headers=headers)).status_code == 403
    assert (await client.post(QUEUES, json=support(), headers=headers)).status_code == 403
    body = {"version": 0, "label": "X"}
    assert (await client.put(f"{QUEUES}/operator", json=body, headers=headers)).status_code == 403


async def test_skills_are_set_by_administrators_and_named_when_wrong(client, world):
    users = (await client.get("/api/v1/agents", headers=world.auth("supervisor"))).json()
    user_id = next(u["user_id"] for u in users if u["role"] == "operator")
    url = f"/api/v1/users/{user_id}/skills"
    r = await client.put(url, json={"skills": ["welfare", "lang_en"]}, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["skills"] == ["lang_en", "welfare"]
    r = await client.put(url, json={"skills": ["Tiếng Anh"]}, headers=world.auth("admin"))
    assert r.status_code == 422 and r.json()["field"] == "skills[0]"
    r = await client.put(url, json={"skills": ["welfare"]}, headers=world.auth("supervisor"))
    assert r.status_code == 403
