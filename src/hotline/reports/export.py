"""The summary report as a table, CSV or an XLSX workbook that officials can open."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

GROUP_VI = {"hardship": "Hỗ trợ khó khăn", "emergency": "Cấp cứu", "other": "Khác"}


def rows(data: dict[str, Any]) -> list[tuple[str, str, int | float | None]]:
    """Flat (section, key, value) rows shared by CSV and XLSX."""
    out: list[tuple[str, str, int | float | None]] = [
        ("requests", "total", data["requests"]["total"])
    ]
    out += [("requests.by_group", k, v) for k, v in data["requests"]["by_group"].items()]
    out += [("requests.by_category", k, v) for k, v in data["requests"]["by_category"].items()]
    out += [("requests.by_channel", k, v) for k, v in data["requests"]["by_channel"].items()]
    out += [("handling", k, v) for k, v in data["handling"].items()]
    out.append(("calls", "total", data["calls"]["total"]))
    out += [("calls.by_line", k, v) for k, v in data["calls"]["by_line"].items()]
    out += [("calls.by_branch", k, v) for k, v in data["calls"]["by_branch"].items()]
    for key in ("abandonment_rate", "average_speed_of_answer_seconds", "service_level_20s"):
        out.append(("calls", key, data["calls"][key]))
    for op in data["calls"]["by_operator"]:
        section = f"calls.by_operator.{op['operator']}"
        out += [(section, k, op[k]) for k in ("answered", "talk_seconds", "average_handle_seconds")]
    out += [("by_day.requests", d["date"], d["requests"]) for d in data["by_day"]]
    out += [("by_day.calls", d["date"], d["calls"]) for d in data["by_day"]]
    out += [("by_hour.requests", f"{h['hour']:02d}", h["requests"]) for h in data["by_hour"]]
    for u in data["units"]:
        out += [(f"units.{u['unit']}", k, u[k]) for k in ("received", "resolved", "overdue")]
    return out


def to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", "from", data["period"]["from"]])
    writer.writerow(["period", "to", data["period"]["to"]])
    writer.writerows(rows(data))
    return buf.getvalue()


def to_xlsx(data: dict[str, Any], path: Path | IO[bytes]) -> None:
    """The workbook, to a file (the CLI) or a buffer (the report page's download)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp"
    bold = Font(bold=True)
    ws.append([f"Báo cáo từ {data['period']['from']} đến {data['period']['to']}"])
    ws["A1"].font = bold
    ws.append(["Mục", "Chỉ tiêu", "Số lượng"])
    for cell in ws[2]:
        cell.font = bold
    for row in rows(data):
        ws.append(list(row))
    days = wb.create_sheet("Theo ngày")
    days.append(["Ngày", "Yêu cầu", "Cuộc gọi"])
    for d in data["by_day"]:
        days.append([d["date"], d["requests"], d["calls"]])
    units = wb.create_sheet("Đơn vị")
    units.append(["Mã", "Đơn vị", "Tiếp nhận", "Đã giải quyết", "Quá hạn"])
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
