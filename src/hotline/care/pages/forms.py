"""What the two check-in forms share (the patient's link and the doctor's patient page):
the measures typed as text, read as numbers, every mistake named next to its field at once
(the service checks again and refuses one at a time; a form shows them all)."""

from __future__ import annotations

import re
from typing import Any

from hotline.care.checkins import RANGES
from hotline.messages import msg

EXPIRED = msg("Phiên làm việc đã hết hạn, vui lòng bấm gửi lại.")
NOT_A_NUMBER = msg("Cần nhập một số")
FIELDS = (
    ("spo2", msg("SpO2"), "%", int),
    ("respiratory_rate", msg("Nhịp thở"), msg("lần/phút"), int),
    ("pulse", msg("Mạch"), msg("lần/phút"), int),
    ("temperature", msg("Nhiệt độ"), "°C", float),
    ("systolic_bp", msg("Huyết áp tâm thu"), "mmHg", int),
    ("diastolic_bp", msg("Huyết áp tâm trương"), "mmHg", int),
)
FIELD_NAMES = frozenset(name for name, *_rest in FIELDS)
# A measure as people write it: the digits 0-9, a sign, a decimal point (a comma is made a
# point first). Python's int() and float() also read "1_00" as 100 and other scripts'
# digits ("９７", "٩٧"): nobody types a reading that way, so it is a mistake to show.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def numbers_of(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The measures typed (a decimal comma taken as a point), and a message for each one
    that is not a number or is outside what the service takes."""
    numbers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, _label, _unit, kind in FIELDS:
        raw = values.get(name, "").replace(",", ".")
        if raw:
            try:
                if not PLAIN_NUMBER.fullmatch(raw):
                    raise ValueError(raw)
                number = kind(raw)
            except ValueError:
                errors[name] = NOT_A_NUMBER
                continue
            low, high = RANGES[name]
            if not low <= number <= high:
                # The service's own refusal (checkins.vitals_of), for every field at once.
                errors[name] = msg("Giá trị ngoài khoảng {low}–{high}", low=low, high=high)
            numbers[name] = number
    return numbers, errors


BOTH_CHOSEN = msg(
    "Đã chọn «Không có triệu chứng nào» cùng với triệu chứng khác: bỏ một trong hai lựa chọn"
)


def symptoms_of(ticked: list[str], none_now: bool) -> tuple[tuple[str, ...] | None, str | None]:
    """What the form's symptoms say: those ticked; none (`()`, which clears the earlier ones)
    when "no symptoms" is chosen; not asked (None: the earlier ones carried forward) when
    nothing is. A message for the symptoms field when "no symptoms" comes with some ticked."""
    if none_now and ticked:
        return None, BOTH_CHOSEN
    if none_now:
        return (), None
    return tuple(ticked) or None, None
