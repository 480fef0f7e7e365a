"""Case intake through POST /api/v1/cases."""

from __future__ import annotations

import pytest

from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


async def test_operator_creates_case_with_code_and_new_status(client, world):
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "new"
    assert len(body["code"]) == 9 and body["code"][4] == "-"
    got = await client.get(f"/api/v1/cases/{body['code']}", headers=world.auth("operator"))
    assert got.status_code == 200
    detail = got.json()
    assert detail["contact"]["phones"] == ["+84912345678"]
    assert detail["category"] == "ho_tro_kho_khan"


async def test_missing_token_is_401_problem(client, world):
    r = await client.post("/api/v1/cases", json=new_case_body())
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
