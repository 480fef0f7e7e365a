"""The period report page (/reports): the service's figures, downloads equal to the CLI's
export, and bad dates shown next to their field."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from hotline.reports import export
from hotline.reports.service import summary
from tests.conftest import new_case_body, site_today
from tests.dashboard.helpers import sign_in

pytestmark = pytest.mark.anyio


async def _period_with_cases(client: Any, world: Any) -> tuple[str, str]:
    for body in (
        new_case_body(),
        new_case_body(category="cap_cuu", urgent=True, channel="zalo"),
        new_case_body(category="tiem_vac_xin"),
    ):
        r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
        assert r.status_code == 201, r.text
    today = site_today()
    return (today - timedelta(days=2)).isoformat(), today.isoformat()


async def _summary(app: Any, date_from: str, date_to: str) -> dict[str, Any]:
    from datetime import date

    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return await summary(
            session, date_from=date.fromisoformat(date_from), date_to=date.fromisoformat(date_to)
        )


async def _categories(app: Any) -> dict[str, str]:
    from hotline.directory.service import list_categories

    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return {c.code: c.name_vi for c in await list_categories(session, include_inactive=True)}


def _cell(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{re.escape(name)}">(?:<a [^>]*>)?([^<]*)<', html)
    assert match, name
    return match.group(1)


async def test_the_page_shows_the_services_figures_with_names(app, client, world) -> None:
    start, end = await _period_with_cases(client, world)
    await sign_in(client, "supervisor")
    page = await client.get("/reports", params={"from": start, "to": end})
    assert page.status_code == 200
    data = await _summary(app, start, end)
    assert data["requests"]["total"] == 3
    for name, value in {
        "requests.total": data["requests"]["total"],
        "requests.by_group.hardship": data["requests"]["by_group"]["hardship"],
        "requests.by_group.emergency": data["requests"]["by_group"]["emergency"],
        "requests.by_group.other": data["requests"]["by_group"]["other"],
        "requests.urgent": data["requests"]["urgent"],
        "handling.handled_directly": data["handling"]["handled_directly"],
        "handling.forwarded": data["handling"]["forwarded"],
        "calls.total": data["calls"]["total"],
    }.items():
        assert _cell(page.text, name) == str(value), name
    # Names, not codes, each linking to the list behind it.
    assert "Tiêm vắc xin" in page.text and "Zalo" in page.text
    assert f"/?from={start}&amp;to={end}&amp;category=tiem_vac_xin" in page.text
    assert f"/?from={start}&amp;to={end}&amp;channel=zalo" in page.text


async def test_downloads_are_the_exports_of_the_same_period(app, client, world) -> None:
    start, end = await _period_with_cases(client, world)
    await sign_in(client, "supervisor")
    data = await _summary(app, start, end)

    r = await client.get("/reports", params={"from": start, "to": end, "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (f'attachment; filename="bao-cao-{start}-{end}.csv"')
    names = {"categories": await _categories(app)}
    assert r.content.decode("utf-8-sig") == export.to_csv(data, **names)

    r = await client.get("/reports", params={"from": start, "to": end, "format": "xlsx"})
    assert r.status_code == 200
    got = load_workbook(io.BytesIO(r.content))
    expected_file = io.BytesIO()
    export.to_xlsx(data, expected_file, **names)
    expected = load_workbook(expected_file)
    assert got.sheetnames == expected.sheetnames
    for name in expected.sheetnames:
        rows = [list(row) for row in got[name].iter_rows(values_only=True)]
        assert rows == [list(row) for row in expected[name].iter_rows(values_only=True)]
    assert ["requests", "Yêu cầu theo nhóm", "total", "Tổng số yêu cầu", 3] in [
        list(row) for row in got["Tổng hợp"].iter_rows(values_only=True)
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "04/12/2026", "to": "2026-12-04"}, "from", "Ngày phải có dạng YYYY-MM-DD"),
        ({"from": "2026-12-04", "to": "2026-12-01"}, "to", "Ngày kết thúc phải sau ngày bắt đầu"),
    ],
)
async def test_a_bad_period_is_told_next_to_its_field_and_kept(
    client, world, params, field, message
) -> None:
    await sign_in(client, "supervisor")
    page = await client.get("/reports", params=params)
    assert page.status_code == 400
    assert f'<div class="error" id="{field}-error">{message}</div>' in page.text
    assert f'value="{params[field]}"' in page.text
    assert 'data-figure="requests.total"' not in page.text
    # No download of a period that is not one.
    r = await client.get("/reports", params={**params, "format": "csv"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")


async def test_unit_officers_are_refused_and_visitors_sent_to_sign_in(client, world) -> None:
    r = await client.get("/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    await sign_in(client, "officer")
    r = await client.get("/reports", params={"format": "csv"})
    assert r.status_code == 403
    assert "Báo cáo dành cho" in r.text
