"""Small HTTP helpers shared by the case tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import new_case_body

API = "/api/v1/cases"


async def create(client, world, who: str = "operator", **overrides: Any) -> dict[str, Any]:
    r = await client.post(API, json=new_case_body(**overrides), headers=world.auth(who))
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, world, who: str, code: str, verb: str, body: dict | None = None):
    return await client.post(f"{API}/{code}/{verb}", json=body, headers=world.auth(who))


async def ok(client, world, who: str, code: str, verb: str, body: dict | None = None) -> dict:
    r = await act(client, world, who, code, verb, body)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def get(client, world, code: str, who: str = "operator") -> dict[str, Any]:
    r = await client.get(f"{API}/{code}", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def events(client, world, code: str, who: str = "operator") -> list[dict[str, Any]]:
    r = await client.get(f"{API}/{code}/events", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def forward(client, world, code: str, unit: str = "ward_a", **extra: Any) -> dict:
    body = {"unit_id": world.units[unit], **extra}
    return await ok(client, world, "operator", code, "forward", body)


def assert_problem(r, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    if field is not None:
        assert body["field"] == field, body
    return body
