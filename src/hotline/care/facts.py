"""Checks of a patient's facts shared by the registration and the edit (care/registration.py,
care/followup.py): each refusal names its field (422)."""

from __future__ import annotations

from datetime import date

from hotline.care.models import PatientStatus
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.text import hidden_characters, tidy

TEST_TYPES = ("rt_pcr", "rapid_antigen")
# No COVID-19 test before the virus was known, no vaccine dose before the first vaccines
# (December 2020): an earlier date is a typing error (1900-01-01, a birth date).
EARLIEST = {"test_date": date(2020, 1, 1), "last_dose_date": date(2020, 12, 1)}
# Younger than this, "pregnant" is a mis-tick.
PREGNANT_FROM_AGE = 10


def check_facts(
    *,
    status: str | None = None,
    test_type: str | None = None,
    age: int | None = None,
    vaccine_doses: int | None = None,
) -> None:
    """The health facts a registration or an edit gives, each checked (None: not given)."""
    if status is not None:
        try:
            PatientStatus(status)
        except ValueError:
            raise InvalidInput(msg("Phân loại phải là F0 hoặc F1"), field="status") from None
    if test_type is not None and test_type not in TEST_TYPES:
        raise InvalidInput(
            msg("Loại xét nghiệm không hợp lệ: {value}", value=test_type), field="test_type"
        )
    if age is not None and not 0 <= age <= 130:
        raise InvalidInput("Tuổi không hợp lệ", field="age")
    if vaccine_doses is not None and not 0 <= vaccine_doses <= 10:
        raise InvalidInput("Số mũi vắc xin không hợp lệ", field="vaccine_doses")


def check_pregnancy(*, pregnant: bool, age: int | None) -> None:
    """Pregnant at an age one cannot be (the facts as they will stand)."""
    if pregnant and age is not None and age < PREGNANT_FROM_AGE:
        raise InvalidInput(msg("Không thể mang thai ở tuổi {age}", age=age), field="pregnant")


def check_dates(today: date, **dates: date | None) -> None:
    """A test or dose date given is neither after the site's today nor before COVID-19."""
    for name, when in dates.items():
        if when is not None and when > today:
            raise InvalidInput(
                msg("Ngày không được sau hôm nay ({today})", today=today.isoformat()), field=name
            )
        earliest = EARLIEST.get(name)
        if when is not None and earliest is not None and when < earliest:
            raise InvalidInput(
                msg("Ngày không được trước {earliest}", earliest=earliest.isoformat()),
                field=name,
            )


def patient_name(raw: str) -> str:
    """A typed name as kept (NFC, spacing tidied; empty when only spaces were typed), refused
    (422 naming `name`) with control or format characters: a zero-width space would make a
    second record of one person, a bidi override (U+202E) would show the name reversed."""
    name = tidy(raw)
    bad = hidden_characters(name)
    if bad:
        raise InvalidInput(
            msg("Họ tên chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad), field="name"
        )
    return name


def patient_address(raw: str) -> str:
    """A typed address as kept (trimmed), refused (422 naming `address`) with control or
    format characters, as a name is: a bidi override would show the 115 crew the house
    number reversed."""
    address = raw.strip()
    bad = hidden_characters(address)
    if bad:
        raise InvalidInput(
            msg("Địa chỉ chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad),
            field="address",
        )
    return address
