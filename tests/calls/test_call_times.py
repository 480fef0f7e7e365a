"""A call recorded through the API has times that can have happened: the same rules at
creation (`POST /api/v1/calls`) as when a call in progress is ended (`PATCH`). Each
refusal names the field (problem+json) and stores and counts nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.calls.test_calls import _post_call

pytestmark = pytest.mark.anyio


def _at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


H = timedelta(hours=1)
CASES = [
    # Started an hour from now.
    ({"started_at": _at(H), "answered_at": None, "ended_at": None, "outcome": None}, "started_at"),
    # Answered before it started.
    ({"started_at": _at(-H), "answered_at": _at(-2 * H), "ended_at": _at(-H / 2)}, "answered_at"),
    # Answered in the future (the call itself began earlier).
    ({"started_at": _at(-H), "answered_at": _at(H), "ended_at": None}, "answered_at"),
    # Ended before it was answered, and before it started.
    ({"started_at": _at(-H), "answered_at": _at(-H / 2), "ended_at": _at(-H * 0.75)}, "ended_at"),
    ({"started_at": _at(-H), "answered_at": None, "ended_at": _at(-2 * H),
      "outcome": "abandoned_queue"}, "ended_at"),
    # Ended an hour from now.
    ({"started_at": _at(-H), "answered_at": _at(-H / 2), "ended_at": _at(H)}, "ended_at"),
    # Ended more than a day after it started.
    ({"started_at": _at(-30 * H), "answered_at": _at(-29 * H), "ended_at": _at(-H)}, "ended_at"),
]  # fmt: skip


@pytest.mark.parametrize(("times", "field"), CASES)
async def test_impossible_times_are_refused_at_creation_naming_the_field(
    client: Any, world: Any, times: dict[str, Any], field: str
) -> None:
    r = await _post_call(client, world, talk_seconds=0, **times)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    listed = await client.get("/api/v1/calls", headers=world.auth("operator"))
    assert listed.json() == []


async def test_a_call_just_ended_and_one_in_progress_are_taken(client: Any, world: Any) -> None:
    r = await _post_call(
        client, world, started_at=_at(-H / 6), answered_at=_at(-H / 12), ended_at=_at(-H / 60)
    )
    assert r.status_code == 201, r.text
    r = await _post_call(
        client, world, started_at=_at(-H / 6), answered_at=_at(-H / 12), ended_at=None
    )
    assert r.status_code == 201, r.text
