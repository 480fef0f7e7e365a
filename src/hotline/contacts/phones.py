"""Phone numbers in one E.164 form, so 0912…, +84 912… and 84912… are one person."""

from __future__ import annotations

import re

import phonenumbers

from hotline.errors import InvalidInput
from hotline.messages import msg

# "0912345678": how nearly every Vietnamese number arrives. Read it directly (parse() would
# give the same number, as tests/contacts check, at three times the cost on the intake path).
_PLAIN_NATIONAL = re.compile(r"0[1-9][0-9]{8}")


def normalise_phone(raw: str, *, region: str = "VN", field: str = "phone") -> str:
    """Return the E.164 form of a Vietnamese or international number, or raise InvalidInput."""
    text = (raw or "").strip()
    if region == "VN" and _PLAIN_NATIONAL.fullmatch(text):
        plain = phonenumbers.PhoneNumber(country_code=84, national_number=int(text[1:]))
        if not phonenumbers.is_valid_number(plain):
            raise InvalidInput(msg("Số điện thoại không hợp lệ: “{raw}”", raw=raw), field=field)
        return "+84" + text[1:]
    # phonenumbers reads letters as keypad digits (0912-OOO-111 as 0912-666-111), which
    # would link a case to whoever owns that other number.
    if any(ch.isalpha() for ch in text):
        raise InvalidInput(msg("Số điện thoại chỉ gồm chữ số: “{raw}”", raw=raw), field=field)
    digits = "".join(ch for ch in text if ch.isdigit())
    # "84912345678" without a plus is common in caller ids from Vietnamese carriers.
    if not text.startswith(("+", "0")) and digits.startswith("84") and len(digits) >= 11:
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            msg("Số điện thoại không hợp lệ: “{raw}”", raw=raw), field=field
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(msg("Số điện thoại không hợp lệ: “{raw}”", raw=raw), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    number = phonenumbers.parse(e164, "VN")
    if number.country_code == 84:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
