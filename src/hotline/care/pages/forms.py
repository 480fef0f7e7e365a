"""What the two check-in forms share (the patient's link and the doctor's patient page):
the measures typed as text, read as numbers, each mistake named next to its field."""

from __future__ import annotations

from typing import Any

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


def numbers_of(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The measures typed (a decimal comma taken as a point), and a message for each one
    that is not a number."""
    numbers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, _label, _unit, kind in FIELDS:
        raw = values.get(name, "").replace(",", ".")
        if raw:
            try:
                numbers[name] = kind(raw)
            except ValueError:
                errors[name] = NOT_A_NUMBER
    return numbers, errors
