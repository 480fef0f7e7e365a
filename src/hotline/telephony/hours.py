"""Opening hours per branch (queue), as data, and how the line says them in Vietnamese."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from hotline.phoneconfig.texts import BRANCH_NAMES
from hotline.phoneconfig.windows import parse_window

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def vi_number(n: int) -> str:
    """0–99 as Vietnamese words ("mười một", "hai mươi mốt", "mười lăm")."""
    if n < 10:
        return DIGITS[n]
    tens, unit = divmod(n, 10)
    head = "mười" if tens == 1 else f"{DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        tail = "lăm"
    elif unit == 1 and tens > 1:
        tail = "mốt"
    elif unit == 4 and tens > 1:
        tail = "tư"
    else:
        tail = DIGITS[unit]
    return f"{head} {tail}"


def _say_time(t: time) -> str:
    words = f"{vi_number(t.hour)} giờ"
    return words + (f" {vi_number(t.minute)} phút" if t.minute else "")


class OpeningHours:
    """Branches listed have these windows (local site time); any other branch is 24/7."""

    def __init__(self, windows: Mapping[str, Sequence[str]], timezone: ZoneInfo) -> None:
        self.windows = {b: [parse_window(w) for w in ws] for b, ws in windows.items()}
        self.timezone = timezone

    def is_open(self, branch: str, at: datetime) -> bool:
        windows = self.windows.get(branch)
        if windows is None:
            return True
        local = at.astimezone(self.timezone).time()
        return any(w.contains(local) for w in windows)

    def texts(self) -> dict[str, str]:
        """The prompt heard outside hours, per branch with hours: `hours_<branch>`."""
        out = {}
        for branch, windows in self.windows.items():
            if not windows:
                continue  # closed all day: the callback offer alone
            spans = [f"từ {_say_time(w.start)} đến {_say_time(w.end)}" for w in windows]
            said = ", ".join(spans[:-1]) + (" và " if len(spans) > 1 else "") + spans[-1]
            name = BRANCH_NAMES.get(branch, branch)
            out[f"hours_{branch}"] = f"{name} làm việc {said} hằng ngày."
        return out
