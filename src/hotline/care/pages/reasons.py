"""Eligibility reasons in the page's language. A patient's reasons are stored with the
Vietnamese text they were given at registration (the API answers it as it is); a page in
another language finds the message template the text was made from and translates that
through the catalogue, values included. A text made from no known template (a rule set
changed since) is shown as stored."""

from __future__ import annotations

import re
from functools import cache

from hotline.care.eligibility import OTHER_SIGN, SIGN_REASONS
from hotline.messages import Message, msg

# The templates of care/eligibility.py's reasons (tests/care/test_page_forms.py checks that every
# reason it gives is found here).
TEMPLATES = (
    msg("F1: theo dõi tại nhà, chưa phải ca bệnh cần điều trị"),
    msg("Không có triệu chứng hoặc chỉ triệu chứng nhẹ"),
    msg("Có triệu chứng ngoài nhóm nhẹ"),
    msg("Chưa đo nhịp thở: cần đánh giá trước khi theo dõi tại nhà"),
    msg("Nhịp thở {rr}/phút, trong giới hạn"),
    msg("Nhịp thở {rr}/phút, trên {limit}/phút"),
    msg("Chưa đo SpO2: cần đánh giá trước khi theo dõi tại nhà"),
    msg("SpO2 {spo2}%, trong giới hạn"),
    msg("SpO2 {spo2}%, dưới {limit}%"),
    msg("Không có bệnh nền hoặc bệnh nền ổn định"),
    msg("Có bệnh nền chưa ổn định"),
    msg("Đã tiêm vắc xin, hoặc dưới 50 tuổi, không bệnh nền, không mang thai"),
    msg("Chưa tiêm đủ vắc xin và thuộc nhóm nguy cơ (tuổi, bệnh nền hoặc mang thai)"),
    msg("Chưa tiêm đủ vắc xin, chưa rõ tuổi: cần bác sĩ đánh giá"),
    msg("Đã tiêm {doses} mũi vắc xin, chưa rõ ngày tiêm: cần bác sĩ đánh giá"),
    msg("Nhịp thở {rr}/phút, trên {limit}/phút của người lớn, chưa rõ tuổi: cần bác sĩ đánh giá"),
    *SIGN_REASONS.values(),
    OTHER_SIGN,
    msg("Tự chăm sóc được hoặc có người chăm sóc"),
    msg("Không tự chăm sóc được và không có người chăm sóc"),
)
_FIELD = re.compile(r"\\\{(\w+)\\\}")


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple(
        (re.compile(_FIELD.sub(r"(?P<\1>-?[0-9]+)", re.escape(t.template)) + r"\Z"), t.template)
        for t in TEMPLATES
    )


def reason_message(text: str) -> str:
    """The stored reason as a `Message` of its template (pages translate those), or the text
    itself when no template made it."""
    for pattern, template in _patterns():
        found = pattern.match(text)
        if found is not None:
            return Message(template, **found.groupdict())
    return text
