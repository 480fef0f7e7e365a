"""The demo phone line looks like the sources' line: menu branches, queue waits, operators.

The plausible ranges are the ones profiles.py's queue model states: a surge line run hot,
worse at its daytime peaks, not a line where nobody ever answers.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from hotline.cli import app as cli_app
from hotline.demo.profiles import DemoProfile, build_profile
from tests.demo.test_demo_logins import _load

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@cache
def profile(name: str) -> DemoProfile:
    return build_profile(name)


def _service_level(calls: list) -> float:
    offered = [
        c for c in calls if c.outcome in ("answered", "abandoned_queue", "callback_requested")
    ]
    quick = [c for c in offered if c.outcome == "answered" and c.wait_seconds <= 20]
    return len(quick) / len(offered)


def test_binh_duong_calls_carry_menu_branches() -> None:
    calls = profile("binh-duong-2021").calls
    branches = Counter(c.branch for c in calls)
    assert branches["115"] == 7833  # the 115 calls are the emergency branch
    assert {c.line for c in calls if c.branch == "115"} == {"115"}
    assert branches["operator"] > branches["doctor"] > 0.1 * len(calls)
    assert branches[None] < 0.05 * len(calls)  # only callers who hung up in the menu
    assert all(c.outcome == "abandoned_menu" for c in calls if c.branch is None)
    answered = [c for c in calls if c.outcome == "answered"]
    assert all(c.agent is not None for c in answered)
    assert all(c.agent is None for c in calls if c.outcome != "answered")


def test_ha_noi_doctors_answer_in_consult_hours_only() -> None:
    doctor = [c for c in profile("ha-noi-2021").calls if c.branch == "doctor"]
    hours = {c.started_at.astimezone(TZ).hour for c in doctor if c.outcome == "answered"}
    assert hours <= {9, 10, 15, 16, 19, 20}
    assert any(c.outcome == "outside_hours" for c in doctor)


def test_queue_waits_vary_by_hour_and_operators_share_the_work() -> None:
    p = profile("binh-duong-2021")
    ops = [c for c in p.calls if c.branch == "operator"]
    by_hour = {
        h: _service_level([c for c in ops if c.started_at.astimezone(TZ).hour == h])
        for h in (3, 10)
    }
    assert by_hour[3] > by_hour[10] + 0.15  # the night queue is short, the morning peak is not
    answered = Counter(p.staff[c.agent].username for c in ops if c.agent is not None)
    assert len(answered) >= 15
    assert max(answered.values()) < 0.15 * sum(answered.values())
    assert _service_level([c for c in p.calls if c.branch == "115"]) > _service_level(ops)


@pytest.mark.anyio
async def test_binh_duong_report_shows_branches_and_plausible_queue(settings, monkeypatch):
    await asyncio.to_thread(_load, settings, "binh-duong-2021")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(settings.var_dir))
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["report", "--from", "2021-07-19", "--to", "2021-08-16", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    calls = json.loads(result.stdout)["calls"]
    assert set(calls["by_branch"]) == {"operator", "doctor", "115", "none"}
    assert calls["by_branch"]["115"] == calls["by_line"]["115"] == 7833
    assert calls["by_branch"]["none"] < 0.05 * calls["total"]
    # The model's range: a surge line run hot but answering most callers.
    assert 0.45 <= calls["service_level_20s"] <= 0.75
    assert 20 <= calls["average_speed_of_answer_seconds"] <= 90
    assert 0.05 <= calls["abandonment_rate"] <= 0.25
    assert len(calls["by_operator"]) >= 20
    answered = sum(o["answered"] for o in calls["by_operator"])
    assert answered == calls["by_outcome"]["answered"]
