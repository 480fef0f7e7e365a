"""The summary report as a table, CSV or an XLSX workbook that officials can open."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from hotline.cases.transitions import CHANNEL_LABELS_VI
from hotline.messages import msg
from hotline.reports import labels

GROUP_VI = {"hardship": "Hỗ trợ khó khăn", "emergency": "Cấp cứu", "other": "Khác"}
Value = int | float | str | None
# (section code, section name, figure code, figure name, value)
Row = tuple[str, str, str, str, Value]
Translate = Callable[[str], str]


def _same(text: str) -> str:
    return str(text)


def rows(
    data: dict[str, Any],
    *,
    categories: dict[str, str] | None = None,
    tr: Translate = _same,
    lang: str = "vi",
) -> list[Row]:
    """Every figure of the report page, in the page's order, with its code and its name
    (`tr` translates the Vietnamese names; `categories` names the category codes)."""
    out: list[Row] = []
    names = categories or {}

    def add(section: str, key: str, name: str, value: Value, title: str = "") -> None:
        out.append((section, title or tr(labels.SECTIONS[section]), key, tr(name), value))

    period = data["period"]
    add("period", "from", labels.FIGURES["from"], period["from"])
    add("period", "to", labels.FIGURES["to"], period["to"])
    req = data["requests"]
    add("requests", "total", labels.FIGURES["requests.total"], req["total"])
    for k, v in req["by_group"].items():
        add("requests", f"by_group.{k}", labels.GROUPS.get(k, k), v)
    add("requests", "urgent", labels.FIGURES["requests.urgent"], req["urgent"])
    for k, v in data["handling"].items():
        add("handling", k, labels.FIGURES[f"handling.{k}"], v)
    for k, v in req["by_category"].items():
        name = labels.UNCATEGORISED if k == "uncategorised" else names.get(k, k)
        add("requests.by_category", k, name, v)
    for k, v in req["by_channel"].items():
        add("requests.by_channel", k, CHANNEL_LABELS_VI.get(k, k), v)
    calls = data["calls"]
    add("calls", "total", labels.FIGURES["calls.total"], calls["total"])
    for k, v in calls["by_line"].items():
        add("calls.by_line", k, labels.line(k), v)
    for k, v in calls["by_branch"].items():
        add("calls.by_branch", k, labels.branch(k), v)
    for k, v in calls.get("by_outcome", {}).items():
        add("calls.by_outcome", k, labels.outcome(k), v)
    for key in ("abandonment_rate", "service_level_20s", "average_speed_of_answer_seconds"):
        add("calls", key, labels.FIGURES[f"calls.{key}"], calls[key])
    for d in data["by_day"]:
        add("by_day.requests", d["date"], labels.day(d["date"], lang), d["requests"])
    for d in data["by_day"]:
        add("by_day.calls", d["date"], labels.day(d["date"], lang), d["calls"])
    for h in data["by_hour"]:
        add("by_hour.requests", f"{h['hour']:02d}", f"{h['hour']:02d}:00", h["requests"])
    for u in data["units"]:
        for k in ("received", "resolved", "overdue"):
            add(f"units.{u['unit']}", k, labels.FIGURES[f"units.{k}"], u[k], title=u["name"])
    for op in calls["by_operator"]:
        section = f"calls.by_operator.{op['operator']}"
        for k in ("answered", "talk_seconds", "average_handle_seconds"):
            add(section, k, labels.FIGURES[f"operator.{k}"], op[k], title=op["operator"])
    return out


HEADERS = (
    msg("Mã mục"),
    msg("Mục"),
    msg("Mã chỉ tiêu"),
    msg("Chỉ tiêu"),
    msg("Giá trị"),
)


def to_csv(
    data: dict[str, Any],
    *,
    categories: dict[str, str] | None = None,
    tr: Translate = _same,
    lang: str = "vi",
) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([tr(h) for h in HEADERS])
    writer.writerows(rows(data, categories=categories, tr=tr, lang=lang))
    return buf.getvalue()


def to_xlsx(
    data: dict[str, Any],
    path: Path | IO[bytes],
    *,
    categories: dict[str, str] | None = None,
    tr: Translate = _same,
    lang: str = "vi",
) -> None:
    """The workbook, to a file (the CLI) or a buffer (the report page's download)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = tr(msg("Tổng hợp"))
    bold = Font(bold=True)
    period = data["period"]
    first, last = labels.day(period["from"], lang), labels.day(period["to"], lang)
    ws.append([tr(msg("Báo cáo từ {start} đến {end}", start=first, end=last))])
    ws["A1"].font = bold
    ws.append([tr(h) for h in HEADERS])
    for cell in ws[2]:
        cell.font = bold
    for row in rows(data, categories=categories, tr=tr, lang=lang):
        ws.append(list(row))
    days = wb.create_sheet(tr(msg("Theo ngày")))
    days.append([tr(msg("Ngày")), tr(msg("Yêu cầu")), tr(msg("Cuộc gọi"))])
    for d in data["by_day"]:
        days.append([labels.day(d["date"], lang), d["requests"], d["calls"]])
    units = wb.create_sheet(tr(msg("Đơn vị")))
    units.append(
        [
            tr(msg("Mã")),
            tr(msg("Đơn vị")),
            tr(msg("Tiếp nhận")),
            tr(msg("Đã giải quyết")),
            tr(msg("Quá hạn")),
        ]
    )
    for u in data["units"]:
        units.append([u["unit"], u["name"], u["received"], u["resolved"], u["overdue"]])
    wb.save(path)


def print_table(data: dict[str, Any], console: Console) -> None:
    req = data["requests"]
    t = Table(title=f"Tổng hợp {data['period']['from']} → {data['period']['to']}")
    t.add_column("Chỉ tiêu")
    t.add_column("Số lượng", justify="right")
    t.add_row("Tổng yêu cầu", f"{req['total']:,}")
    for k, v in req["by_group"].items():
        t.add_row(f"  {GROUP_VI.get(k, k)}", f"{v:,}")
    t.add_row("Xử lý trực tiếp", f"{data['handling']['handled_directly']:,}")
    t.add_row("Chuyển đơn vị", f"{data['handling']['forwarded']:,}")
    t.add_row("Tổng cuộc gọi", f"{data['calls']['total']:,}")
    for k, v in data["calls"]["by_line"].items():
        t.add_row(f"  Đường {k}", f"{v:,}")
    console.print(t)
    if req["by_category"]:
        c = Table(title="Theo lĩnh vực")
        c.add_column("Lĩnh vực")
        c.add_column("Số lượng", justify="right")
        for k, v in req["by_category"].items():
            c.add_row(k, f"{v:,}")
        console.print(c)
