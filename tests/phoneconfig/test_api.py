"""The phone configuration through the admin API: defaults, validation, versions, audit."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio
API = "/api/v1/phone"


def _item(config: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    return next(i for i in config[kind] if i["key"] == key)


def menu_body(version: int = 0, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version,
        "greeting": "greeting",
        "options": [
            {"digit": "1", "destination": "115"},
            {"digit": "2", "destination": "cdc"},
            {"digit": "3", "queue": "doctor"},
            {"digit": "4", "queue": "operator"},
        ],
        "repeats": 2,
        "digit_timeout": 5,
        "fallback_queue": "operator",
    }
    body.update(overrides)
    return body


async def test_fresh_install_serves_todays_defaults(client, world, settings):
    r = await client.get(API, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    config = r.json()
    assert config["version"] == 0
    assert _item(config, "lines", "1022")["data"] == {
        "number": "1022",
        "menu": "main",
        "record": False,
    }
    # Hà Nội's two older hotline numbers reach the same menu (docs/domain.md)
    for legacy in ("0889556655", "0889557755"):
        assert _item(config, "lines", legacy)["data"]["menu"] == "main"
    menu = _item(config, "menus", "main")
    assert menu["version"] == 0
    assert [(o["digit"], o["destination"], o["queue"]) for o in menu["data"]["options"]] == [
        ("1", "115", None),
        ("2", "cdc", None),
        ("3", None, "doctor"),
        ("4", None, "violations"),  # Hà Nội's branch 4: violation reports
    ]
    assert _item(config, "destinations", "115")["data"]["uri"] == settings.sip_transfer_115
    assert (
        _item(config, "queues", "doctor")["data"]["hours"] == settings.sip_opening_hours["doctor"]
    )
    assert _item(config, "queues", "operator")["data"]["hours"] is None
    greeting = _item(config, "prompts", "greeting")["data"]
    assert greeting["text"].startswith("Tổng đài 1022 thành phố Hà Nội")
    assert greeting["upload"] is None
    notice = _item(config, "prompts", "recording_notice")["data"]["text"]
    assert notice == "Cuộc gọi có thể được ghi âm để nâng cao chất lượng phục vụ."


@pytest.mark.parametrize("who", ["supervisor", "operator", "officer"])
async def test_only_administrators_read_or_change_the_configuration(client, world, who):
    assert (await client.get(API, headers=world.auth(who))).status_code == 403
    r = await client.put(f"{API}/menus/main", json=menu_body(), headers=world.auth(who))
    assert r.status_code == 403
    assert (await client.get(f"{API}/changes", headers=world.auth(who))).status_code == 403


async def test_admin_changes_a_menu_with_its_version_and_it_is_audited(client, world):
    admin = world.auth("admin")
    body = menu_body(
        options=[{"digit": "1", "queue": "operator"}, {"digit": "9", "destination": "cdc"}]
    )
    r = await client.put(f"{API}/menus/main", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    config = (await client.get(API, headers=admin)).json()
    assert config["version"] >= 1
    menu = _item(config, "menus", "main")
    assert menu["version"] == 1
    assert [o["digit"] for o in menu["data"]["options"]] == ["1", "9"]

    # A second admin still holding version 0 is refused, not silently overwritten.
    stale = await client.put(f"{API}/menus/main", json=menu_body(version=0), headers=admin)
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert stale.json()["field"] == "version"
    assert _item((await client.get(API, headers=admin)).json(), "menus", "main")["version"] == 1

    r = await client.put(f"{API}/menus/main", json=menu_body(version=1), headers=admin)
    assert r.status_code == 200
    assert r.json()["version"] == 2

    changes = (await client.get(f"{API}/changes", headers=admin)).json()
    assert [(c["kind"], c["key"], c["action"]) for c in changes[:2]] == [
        ("menu", "main", "put"),
        ("menu", "main", "put"),
    ]
    first = changes[1]
    assert first["user_id"] is not None
    assert [o["digit"] for o in first["before"]["options"]] == ["1", "2", "3", "4"]
    assert [o["digit"] for o in first["after"]["options"]] == ["1", "9"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (
            [{"digit": "1", "queue": "operator"}, {"digit": "1", "queue": "doctor"}],
            "options[1].digit",
        ),
        ([{"digit": "1", "destination": "nowhere"}], "options[0].destination"),
        ([{"digit": "1", "queue": "nowhere"}], "options[0].queue"),
        ([{"digit": "1"}], "options[0]"),
        ([{"digit": "1", "queue": "operator", "destination": "115"}], "options[0]"),
        ([{"digit": "12", "queue": "operator"}], "options[0].digit"),
    ],
)
async def test_bad_menu_is_422_naming_the_field_and_changes_nothing(client, world, options, field):
    admin = world.auth("admin")
    r = await client.put(f"{API}/menus/main", json=menu_body(options=options), headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    config = (await client.get(API, headers=admin)).json()
    assert config["version"] == 0
    assert (await client.get(f"{API}/changes", headers=admin)).json() == []


async def test_menu_falling_back_to_an_unknown_queue_is_refused(client, world):
    r = await client.put(
        f"{API}/menus/main", json=menu_body(fallback_queue="nowhere"), headers=world.auth("admin")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "fallback_queue"


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        (["08:00-12:00", "11:00-13:00"], "hours[1]"),
        (["17:00-08:00"], "hours[0]"),
        (["09:00-09:00"], "hours[0]"),
        (["9h-11h"], "hours[0]"),
    ],
)
async def test_bad_hours_are_422_naming_the_window(client, world, hours, field):
    body = {"version": 0, "label": "Tư vấn bác sĩ", "hours": hours}
    r = await client.put(f"{API}/queues/doctor", json=body, headers=world.auth("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


async def test_queue_hours_and_callback_wait_are_saved(client, world):
    admin = world.auth("admin")
    body = {
        "version": 0,
        "label": "Tư vấn bác sĩ",
        "hours": ["07:30-11:30", "13:30-17:00"],
        "callback_after": 45,
    }
    r = await client.put(f"{API}/queues/doctor", json=body, headers=admin)
    assert r.status_code == 200, r.text
    saved = _item((await client.get(API, headers=admin)).json(), "queues", "doctor")
    assert saved["data"]["hours"] == ["07:30-11:30", "13:30-17:00"]
    assert saved["data"]["callback_after"] == 45


@pytest.mark.parametrize("uri", ["115", "http://example.org/", "sip:", "mailto:a@b"])
async def test_destination_uri_that_does_not_parse_is_refused(client, world, uri):
    r = await client.put(
        f"{API}/destinations/115", json={"version": 0, "uri": uri}, headers=world.auth("admin")
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "uri"


async def test_new_destination_and_line_are_added_and_referenced(client, world):
    admin = world.auth("admin")
    r = await client.put(
        f"{API}/destinations/poison",
        json={"version": 0, "uri": "sip:chongdoc@10.0.0.7:5060"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        f"{API}/menus/night",
        json=menu_body(options=[{"digit": "1", "destination": "poison"}]),
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        f"{API}/lines/19009095", json={"version": 0, "menu": "night", "record": True}, headers=admin
    )
    assert r.status_code == 200, r.text
    bad = await client.put(f"{API}/lines/1900", json={"version": 0, "menu": "nope"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["field"] == "menu"
    config = (await client.get(API, headers=admin)).json()
    assert _item(config, "lines", "19009095")["data"]["record"] is True
    assert config["version"] == 3


async def test_prompt_text_change_is_versioned(client, world):
    admin = world.auth("admin")
    r = await client.put(
        f"{API}/prompts/greeting/text",
        json={"version": 0, "text": "Tổng đài 1022 xin nghe."},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["text"] == "Tổng đài 1022 xin nghe."
    r = await client.put(
        f"{API}/prompts/greeting/text", json={"version": 0, "text": "x"}, headers=admin
    )
    assert r.status_code == 409


async def test_bridged_destination_needs_an_ip_address(client, world):
    admin = world.auth("admin")
    body = {"version": 0, "uri": "sip:cdc@cdc.hanoi.gov.vn", "refer": False}
    r = await client.put(f"{API}/destinations/cdc", json=body, headers=admin)
    assert r.status_code == 422
    assert r.json()["field"] == "uri"
    body["refer"] = True  # a REFER's target is resolved by the caller's side
    assert (
        await client.put(f"{API}/destinations/cdc", json=body, headers=admin)
    ).status_code == 200
