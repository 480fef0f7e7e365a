"""The console's list on its address: `/?status=forwarded&unit=4&overdue=true` opens the
list those names select, with the names of `GET /api/v1/cases`. The dashboard's and the
report's figures link to the list behind them this way; the console's own view and filters
(`view`, one `status`, `category`, `channel`, `ward`) use the same names.

A value that is not understood is left out and named in `errors` with what it says and why
it was not understood: the list still opens, unfiltered by it, saying which part of the
address it ignored. A period that ends before it starts is left out the same way, both of its
dates named (the API refuses it: cases/queries.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from hotline.auth.service import Actor
from hotline.cases.models import CaseStatus, Channel
from hotline.cases.queries import CaseFilter, inverted_period
from hotline.messages import Message, msg

VIEWS = ("new", "mine", "overdue", "all")
# Names the console's form has no control for: kept as hidden fields, shown as "filtered by".
LINKED = ("unit", "held", "urgent", "overdue", "forwarded", "from", "to", "hour")
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
T = TypeVar("T")
# Each name of the address as the page calls it, and why a value of it was not understood.
LABELS = {
    "status": msg("Trạng thái"),
    "category": msg("Lĩnh vực"),
    "channel": msg("Kênh"),
    "ward": msg("Phường, xã"),
    "unit": msg("Đơn vị"),
    "held": msg("Đơn vị đang giữ"),
    "urgent": msg("Khẩn cấp"),
    "overdue": msg("Quá hạn"),
    "forwarded": msg("Đã chuyển đơn vị"),
    "from": msg("Từ ngày"),
    "to": msg("Đến ngày"),
    "hour": msg("Giờ"),
}
UNKNOWN = msg("không có giá trị này")
_FLAG = msg("chỉ nhận true hoặc false")
_DATE = msg("không phải ngày dạng YYYY-MM-DD")
REASONS = {
    "unit": msg("không phải mã số đơn vị"),
    "hour": msg("chỉ nhận giờ từ 0 đến 23"),
    "from": _DATE,
    "to": _DATE,
    **dict.fromkeys(("held", "urgent", "overdue", "forwarded"), _FLAG),
}
NUL = "\x00"
_NUL = msg("có ký tự NUL (\\x00)")
# The most of a value an error shows back.
SHOWN = 40


def ignored(name: str, value: str, reason: Message = UNKNOWN) -> Message:
    """Why the list left out one name of its address, naming it and its value."""
    return msg(
        "Bỏ qua bộ lọc {label} ({name}={value}): {reason}",
        label=LABELS.get(name, name),
        name=name,
        value=value[:SHOWN],
        reason=reason,
    )


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(raw)


@dataclass
class ListQuery:
    view: str = "new"
    status: list[str] = field(default_factory=list)
    category: str = ""
    channel: str = ""
    ward: str = ""
    unit: int | None = None
    held: bool | None = None
    urgent: bool | None = None
    overdue: bool | None = None
    forwarded: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    hour: int | None = None
    # The view the address asked for ("" if none).
    asked_view: str = ""
    # Query names whose value was not understood (left out), each with why.
    errors: dict[str, Message] = field(default_factory=dict)

    @classmethod
    def parse(cls, getlist: Callable[[str], list[str]]) -> ListQuery:
        """From the address's query (`getlist(name)` gives every value of a name)."""
        q = cls()

        def values_of(name: str) -> list[str]:
            # A value holding a NUL (no column holds one) is left out and named.
            values = getlist(name)
            held = [v for v in values if NUL in v]
            if held and name != "view":
                q.errors.setdefault(name, ignored(name, held[-1].replace(NUL, ""), _NUL))
            return [v for v in values if NUL not in v]

        def one(name: str, limit: int = 40) -> str:
            values = [v.strip() for v in values_of(name) if v.strip()]
            return values[-1][:limit] if values else ""

        def parsed(name: str, parse: Callable[[str], T]) -> T | None:
            raw = one(name, SHOWN)
            if not raw:
                return None
            try:
                return parse(raw)
            except ValueError:
                q.errors.setdefault(name, ignored(name, raw, REASONS.get(name, UNKNOWN)))
                return None

        statuses = {s.value for s in CaseStatus}
        for value in values_of("status"):
            value = value.strip()
            if value in statuses and value not in q.status:
                q.status.append(value)
            elif value and value not in statuses:
                q.errors.setdefault("status", ignored("status", value))
        q.category = one("category")
        channel = one("channel", SHOWN)
        if channel and channel not in {c.value for c in Channel}:
            q.errors["channel"] = ignored("channel", channel)
        elif channel:
            q.channel = channel
        q.ward = one("ward", 8)
        q.unit = parsed("unit", _unit)
        q.held = parsed("held", _flag)
        q.urgent = parsed("urgent", _flag)
        q.overdue = parsed("overdue", _flag)
        q.forwarded = parsed("forwarded", _flag)
        q.date_from = parsed("from", date.fromisoformat)
        q.date_to = parsed("to", date.fromisoformat)
        q.hour = parsed("hour", _hour)
        if (wrong := inverted_period(q.date_from, q.date_to)) is not None:
            q.errors["from"] = msg("Bỏ qua bộ lọc ngày: {reason}", reason=wrong)
            q.date_from = q.date_to = None
        q.asked_view = one("view", 10)
        q._choose_view()
        return q

    def _choose_view(self) -> None:
        # A link names what it lists: everything matching, not only what nobody holds yet.
        if self.asked_view in VIEWS:
            self.view = self.asked_view
        else:
            self.view = "all" if self.linked or len(self.status) > 1 else "new"

    def drop(self, name: str, value: str) -> None:
        """Leave out a name whose value names nothing (an unknown ward, unit or category)."""
        self.errors[name] = ignored(name, value)
        if name == "ward":
            self.ward = ""
        elif name == "category":
            self.category = ""
        elif name == "unit":
            self.unit = None
        self._choose_view()

    @property
    def linked(self) -> bool:
        """Whether names the form has no control for select the list."""
        return any(value is not None for value in self._linked_values().values())

    def _linked_values(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "held": self.held,
            "urgent": self.urgent,
            "overdue": self.overdue,
            "forwarded": self.forwarded,
            "from": self.date_from,
            "to": self.date_to,
            "hour": self.hour,
        }

    def hidden(self) -> list[tuple[str, str]]:
        """The names to carry as hidden fields of the list's form, so that its refreshes
        (live events, a filter changed) keep listing what the link named. Several statuses
        are carried too (the form's status control holds one)."""
        out: list[tuple[str, str]] = []
        for name, value in self._linked_values().items():
            if value is None:
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out.append((name, text))
        if len(self.status) > 1:
            out += [("status", s) for s in self.status]
        return out

    def filters(self, actor: Actor) -> CaseFilter:
        """The case query's filter (the API's own) for this view and these names."""
        filters = CaseFilter(
            status=list(self.status) or None,
            category=self.category or None,
            channel=self.channel or None,
            ward_code=self.ward or None,
            unit_id=self.unit,
            held=self.held,
            urgent=self.urgent,
            overdue=self.overdue,
            ever_forwarded=self.forwarded,
            date_from=self.date_from,
            date_to=self.date_to,
            hour=self.hour,
        )
        if self.view == "new" and not self.status:
            filters.status = ["new"]
        elif self.view == "mine":
            filters.assignee_id = actor.user_id if actor.user_id is not None else -1
        elif self.view == "overdue":
            filters.overdue = True
        return filters


def _unit(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 2**31:
        raise ValueError(raw)
    return value


def _hour(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 23:
        raise ValueError(raw)
    return value
