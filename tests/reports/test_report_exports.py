"""The report's downloads carry every figure of the page, named as the page names them (in
the page's language) next to the summary's codes."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from hotline.db import utcnow
from tests.calls.test_calls import record_call_for
from tests.cases.helpers import create, forward
from tests.dashboard.helpers import sign_in
from tests.reports.test_reports_page import _summary

pytestmark = pytest.mark.anyio

OUTCOMES = ("answered", "transferred_cdc", "transferred_115", "outside_hours")
OUTCOMES += ("callback_requested", "abandoned_menu", "abandoned_queue")


async def _period(client: Any, world: Any) -> tuple[str, str]:
    """Cases in three groups, one forwarded, and a call of every outcome the page names."""
    await create(client, world)
    await create(client, world, category="cap_cuu", urgent=True, channel="zalo")
    code = (await create(client, world, category="tiem_vac_xin"))["code"]
    await forward(client, world, code, "ward_a")
    start = utcnow() - timedelta(minutes=30)
    for i, outcome in enumerate(OUTCOMES):
        answered = outcome == "answered"
        body = {
            "line": "1022",
            "caller": f"091234567{i}",
            "started_at": start.isoformat(),
            "answered_at": (start + timedelta(seconds=20)).isoformat() if answered else None,
            "ended_at": (start + timedelta(seconds=90)).isoformat(),
            "branch": {"transferred_cdc": "cdc", "transferred_115": "115"}.get(outcome, "operator"),
            "queue_wait_seconds": 20 if answered else 0,
            "talk_seconds": 70 if answered else 0,
            "outcome": outcome,
        }
        r = await record_call_for(client, world, body)
        assert r.status_code == 201, r.text
    day = (start + timedelta(hours=7)).date()
    return (day - timedelta(days=2)).isoformat(), (day + timedelta(days=1)).isoformat()


def _page_figures(page: str) -> dict[str, tuple[str, str]]:
    """data-figure -> (the row's name, the number shown), for the rows of two cells."""
    out = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<t[hd][^>]*?(?: data-figure=\"([^\"]+)\")?>(.*?)</t[hd]>", row, re.S)
        if len(cells) == 2 and cells[1][0]:
            text = [html.unescape(re.sub(r"<[^>]+>", "", c[1])).strip() for c in cells]
            out[cells[1][0]] = (text[0], text[1])
    return out


def _shown(value: Any, lang: str, decimals: int = 0) -> str:
    """A figure as the page writes it."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text if lang == "en" else text.translate(str.maketrans(",.", ".,"))


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_csv_and_xlsx_carry_every_figure_of_the_page(app, client, world, lang) -> None:
    start, end = await _period(client, world)
    await sign_in(client, "supervisor")
    client.cookies.set("lang", lang)
    data = await _summary(app, start, end)
    calls = data["calls"]
    assert set(calls["by_outcome"]) == set(OUTCOMES)
    page = await client.get("/reports", params={"from": start, "to": end})
    figures = _page_figures(page.text)
    r = await client.get("/reports", params={"from": start, "to": end, "format": "csv"})
    assert r.status_code == 200
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    r = await client.get("/reports", params={"from": start, "to": end, "format": "xlsx"})
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    xlsx = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    header = table[0]
    assert header == (
        ["Mã mục", "Mục", "Mã chỉ tiêu", "Chỉ tiêu", "Giá trị"]
        if lang == "vi"
        else ["Section code", "Section", "Figure code", "Figure", "Value"]
    )
    assert xlsx[0] == header
    # The CSV and the workbook hold the same rows (the CSV's values as text).
    assert len(xlsx) == len(table)
    for got, row in zip(xlsx[1:], table[1:], strict=True):
        assert [str(v) if v is not None else "" for v in got[:4]] == row[:4]
        number = isinstance(got[4], int | float)
        assert (float(row[4]) if number else row[4]) == (got[4] if got[4] is not None else "")

    compared = set()
    for section, _section_name, key, name, value in xlsx[1:]:
        figure = f"{section}.{key}"
        if section.startswith("units."):
            unit = next(u for u in data["units"] if u["unit"] == section[6:])
            assert value == unit[key]
        elif section.startswith("calls.by_operator."):
            op = next(o for o in calls["by_operator"] if o["operator"] == section[18:])
            assert value == op[key]
            figure = f"operators.{section[18:]}.{key}"
        elif section.startswith("by_day."):
            day = next(d for d in data["by_day"] if d["date"] == key)
            assert value == day[section[7:]]
            if lang == "vi":
                assert name == f"{key[8:]}/{key[5:7]}/{key[:4]}"
        elif section == "period":
            assert value == data["period"][key]
            continue
        elif section == "by_hour.requests":
            assert value == data["by_hour"][int(key)]["requests"]
        else:
            node: Any = data
            for part in section.split("."):
                node = node[part]
            for part in key.split("."):
                node = node[part]
            assert value == node, figure
        if figure in figures:
            shown_name, shown_value = figures[figure]
            rate = key in ("abandonment_rate", "service_level_20s")
            decimals = 1 if rate or key.startswith("average_") else 0
            if rate and value is not None:
                value = value * 100
            assert shown_value == _shown(value, lang, decimals) + (
                "%" if rate and value is not None else ""
            ), figure
            if not section.startswith(("units.", "by_day.")):
                assert shown_name == name, figure
            compared.add(figure)
    # Every figure of the page's tables is in the downloads.
    assert set(figures) <= compared, set(figures) - compared
    assert {f"calls.by_outcome.{o}" for o in OUTCOMES} <= compared
    names = {row[3] for row in xlsx}
    if lang == "vi":
        assert {"Chuyển CDC", "Ngoài giờ", "Xin gọi lại", "Bỏ máy ở lời chào"} <= names
        assert "Nhánh Trung tâm Kiểm soát bệnh tật (CDC)" in names
    else:
        assert {"Transferred to the CDC", "Outside hours", "Callback requested"} <= names


async def test_the_page_writes_numbers_and_dates_in_its_language_and_links_units(
    client, world
) -> None:
    start, end = await _period(client, world)
    await sign_in(client, "supervisor")
    page = await client.get("/reports", params={"from": start, "to": end})
    figures = _page_figures(page.text)
    # One answered of three offered within 20 s: 33,3% in Vietnamese, 33.3% in English.
    assert figures["calls.service_level_20s"][1] == "33,3%"
    assert figures["calls.by_branch.cdc"][0] == "Nhánh Trung tâm Kiểm soát bệnh tật (CDC)"
    assert f"<td>{start[8:]}/{start[5:7]}/{start[:4]}</td>" in page.text
    unit = world.units["ward_a"]
    assert f'<a href="/?unit={unit}&amp;from={start}&amp;to={end}">' in page.text
    client.cookies.set("lang", "en")
    page = await client.get("/reports", params={"from": start, "to": end})
    assert _page_figures(page.text)["calls.service_level_20s"][1] == "33.3%"
