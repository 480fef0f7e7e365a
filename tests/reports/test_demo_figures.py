"""The historical demo profiles, loaded into the database, report the sources' figures exactly."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from typer.testing import CliRunner

from hotline.cli import app as cli_app
from hotline.demo.load import load_profile

pytestmark = pytest.mark.anyio


def _load(settings, profile: str) -> None:  # type: ignore[no-untyped-def]
    # load_profile runs its own event loop: give it a thread of its own.
    t = threading.Thread(target=load_profile, args=(settings, profile))
    t.start()
    t.join()


async def test_ha_noi_profile_reports_2088_requests_1581_direct_507_forwarded(
    settings, client, world
):
    await asyncio.to_thread(_load, settings, "ha-noi-2021")
    r = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2021-08-19", "to": "2021-08-23"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["requests"]["total"] == 2088
    assert data["handling"] == {"handled_directly": 1581, "forwarded": 507}
    assert sum(d["requests"] for d in data["by_day"]) == 2088
    assert [d["date"] for d in data["by_day"]] == [f"2021-08-{d}" for d in range(19, 24)]
    # The day before and after the period hold nothing from this profile.
    outside = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2021-08-24", "to": "2021-08-30"},
        headers=world.auth("supervisor"),
    )
    assert outside.json()["requests"]["total"] == 0


async def test_binh_duong_profile_reports_the_published_figures(settings, monkeypatch):
    await asyncio.to_thread(_load, settings, "binh-duong-2021")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(settings.var_dir))
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["report", "--from", "2021-07-19", "--to", "2021-08-16", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["requests"]["total"] == 8408
    assert data["requests"]["by_group"] == {"hardship": 3898, "emergency": 1039, "other": 3471}
    assert data["calls"]["total"] == 55553
    assert data["calls"]["by_line"]["115"] == 7833
    august = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["report", "--from", "2021-08-01", "--to", "2021-08-16", "--format", "json"],
    )
    calls = json.loads(august.stdout)["calls"]
    assert 49_000 <= calls["total"] < 50_000
    assert calls["by_line"]["115"] > 6000 and calls["by_line"]["1022"] > 43000


async def test_report_exports_csv_and_xlsx_with_the_same_totals(
    settings, client, world, tmp_path, monkeypatch
):
    from openpyxl import load_workbook

    from tests.conftest import new_case_body, site_date

    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(settings.var_dir))
    today = site_date(r.json()["created_at"])
    runner = CliRunner()
    csv_out = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["report", "--from", "2025-01-01", "--to", "2029-12-31", "--format", "csv"],
    )
    assert csv_out.exit_code == 0, csv_out.output
    assert "requests,Yêu cầu theo nhóm,total,Tổng số yêu cầu,1" in csv_out.stdout
    assert "requests,Yêu cầu theo nhóm,by_group.hardship,Hỗ trợ khó khăn,1" in csv_out.stdout
    xlsx = tmp_path / "bao-cao.xlsx"
    x = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["report", "--from", today, "--to", today, "--format", "xlsx", "-o", str(xlsx)],
    )
    assert x.exit_code == 0, x.output
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Tổng hợp", "Theo ngày", "Đơn vị"]
    values = [tuple(row) for row in wb["Tổng hợp"].iter_rows(min_row=3, values_only=True)]
    assert ("requests", "Yêu cầu theo nhóm", "total", "Tổng số yêu cầu", 1) in values
    bad = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["report", "--from", "2021-08-23", "--to", "2021-08-19", "--format", "json"],
    )
    assert bad.exit_code == 2
    assert "Ngày kết thúc" in bad.output
