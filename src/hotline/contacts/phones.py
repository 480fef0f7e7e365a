"""Phone numbers in one E.164 form, so 0912…, +84 912… and 84912… are one person."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneMetadata

from hotline.errors import InvalidInput
from hotline.messages import msg

# "0912345678": how nearly every Vietnamese number arrives. Read it directly (parse() would
# give the same number, as tests/contacts check, at three times the cost on the intake path).
_PLAIN_NATIONAL = re.compile(r"0[1-9][0-9]{8}")


def _vietnamese_validator() -> dict[int, re.Pattern[str]]:
    """For each length of a Vietnamese national number, one expression that matches exactly
    the numbers `phonenumbers.is_valid_number` accepts: the general description's pattern
    and any number type's (its `_number_type_helper` tries them one by one, a dozen
    expressions for a mobile number; this is one)."""
    meta = PhoneMetadata.metadata_for_region("VN")
    if meta is None:  # pragma: no cover - phonenumbers always carries VN
        raise RuntimeError("phonenumbers has no metadata for VN")
    types = [
        meta.premium_rate, meta.toll_free, meta.shared_cost, meta.voip,
        meta.personal_number, meta.pager, meta.uan, meta.voicemail,
        meta.fixed_line, meta.mobile,
    ]  # fmt: skip
    general = meta.general_desc
    if general is None or general.national_number_pattern is None:  # pragma: no cover
        raise RuntimeError("phonenumbers' VN metadata has no general description")
    out: dict[int, re.Pattern[str]] = {}
    for length in range(1, 18):
        if general.possible_length and length not in general.possible_length:
            continue
        alternatives = [
            d.national_number_pattern
            for d in types
            if d is not None
            and d.national_number_pattern is not None
            and (not d.possible_length or length in d.possible_length)
        ]
        if alternatives:
            either = "|".join(f"(?:{a})" for a in alternatives)
            out[length] = re.compile(f"(?=(?:{general.national_number_pattern})$)(?:{either})")
    return out


_VALID_VN = _vietnamese_validator()


def _valid_vietnamese(national: str) -> bool:
    """`phonenumbers.is_valid_number` of +84 `national` (tests/contacts compare the two)."""
    pattern = _VALID_VN.get(len(national))
    return pattern is not None and pattern.fullmatch(national) is not None


def normalise_phone(raw: str, *, region: str = "VN", field: str = "phone") -> str:
    """Return the E.164 form of a Vietnamese or international number, or raise InvalidInput."""
    text = (raw or "").strip()
    if region == "VN" and _PLAIN_NATIONAL.fullmatch(text):
        if not _valid_vietnamese(text[1:]):
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
