"""Phone numbers read the way phonenumbers reads them, however they are written."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from hotline.contacts.phones import normalise_phone
from hotline.errors import InvalidInput


def _by_phonenumbers(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ours(text: str) -> str | None:
    try:
        return normalise_phone(text)
    except InvalidInput:
        return None


def test_ten_digit_national_numbers_read_as_phonenumbers_reads_them() -> None:
    """Every four-digit start (mobile, landline, unassigned) with random endings: the same
    E.164 number, or refused by both."""
    rng = random.Random(1022)
    valid = 0
    for start in range(1000, 10000):
        for _ in range(3):
            text = f"0{start}{rng.randrange(10**5):05d}"[:10]
            ours = _ours(text)
            assert ours == _by_phonenumbers(text), text
            valid += ours is not None
    assert valid > 3000  # the mobile ranges alone are thousands of starts


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0912345678", "+84912345678"),
        (" 0912 345 678 ", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("02438253536", "+842438253536"),
        ("0012345678", None),
        ("0912-OOO-111", None),
    ],
)
def test_the_usual_ways_of_writing_a_number(text: str, e164: str | None) -> None:
    assert _ours(text) == e164
