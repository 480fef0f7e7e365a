"""A shift template's code and start are checked by the staffing service: a bad one is
refused in Vietnamese (English with the English interface), as problem+json naming the
field, and a number is not taken for a time of day."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio
GOOD = {"code": "som", "name": "Ca sớm", "starts_at": "06:00", "hours": 4, "operators": 2}


async def _put(client: Any, world: Any, **changes: Any) -> Any:
    return await client.put(
        "/api/v1/shifts", json={**GOOD, **changes}, headers=world.auth("supervisor")
    )


@pytest.mark.parametrize(
    "starts_at",
    [
        "25:00",
        "sáng",
        "6h",
        "",
        7,
        25200,
        "06:00:00+25:00",
        None,
        "06:00 sáng",
        "06:00:59.5",
        "06:00:59",
        "06:00:00.000001",
    ],
)
async def test_a_bad_shift_start_is_refused_in_vietnamese_naming_the_field(
    client, world, starts_at
) -> None:
    r = await _put(client, world, starts_at=starts_at)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["field"] == "starts_at"
    assert "Giờ bắt đầu ca" in body["detail"], body["detail"]
    assert "Input should" not in r.text


@pytest.mark.parametrize("code", ["Sớm!", "ca sáng", "CA1", "", "x" * 21])
async def test_a_bad_shift_code_is_refused_in_vietnamese_naming_the_field(
    client, world, code
) -> None:
    r = await _put(client, world, code=code)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "code"
    assert "Mã ca" in r.json()["detail"], r.json()["detail"]
    assert "String should" not in r.text


async def test_shift_refusals_follow_the_interface_language(client, world) -> None:
    client.cookies.set("lang", "en")
    try:
        r = await _put(client, world, starts_at="25:00")
        assert r.status_code == 422 and r.json()["field"] == "starts_at"
        assert "shift start" in r.json()["detail"].lower(), r.text
        r = await _put(client, world, code="Sớm!")
        assert r.status_code == 422 and r.json()["field"] == "code"
        assert "shift code" in r.json()["detail"].lower(), r.text
    finally:
        client.cookies.delete("lang")


@pytest.mark.parametrize(
    ("given", "kept"), [("06:30", "06:30:00+07:00"), ("6:30", "06:30:00+07:00")]
)
async def test_a_shift_start_is_hours_and_minutes(client, world, given, kept) -> None:
    r = await _put(client, world, starts_at=given)
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == kept


@pytest.mark.parametrize("name", ["Ca \u202esáng", "Ca\u200bsáng", "Ca\x07 sáng", "Ca \u2066x"])
async def test_a_shift_name_with_control_or_format_characters_is_refused(
    client, world, name
) -> None:
    r = await _put(client, world, name=name)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "name"
    assert "Tên ca" in r.json()["detail"] and "U+" in r.json()["detail"], r.text


async def test_a_shift_start_written_with_zero_seconds_is_taken(client, world) -> None:
    """What the API answers (06:00:00+07:00) can be sent back as it is."""
    r = await _put(client, world, starts_at="06:00:00+07:00")
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == "06:00:00+07:00"
