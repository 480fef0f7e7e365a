"""The portal's rules that need no database: scrubbing public text, reading typed secrets."""

from __future__ import annotations

from hotline.portal.service import (
    HIDDEN,
    Report,
    check_report,
    new_secret,
    normalise_secret,
    scrub,
)


def test_scrub_hides_numbers_mails_and_the_known_name_and_address() -> None:
    text = (
        "NGUYỄN THỊ HOA ở số 12 ngõ 34 Đội Cấn báo: gọi +84 912 345 678, 0912.345.678 "
        "hoặc hoa.nt@example.vn; CCCD 001203004005"
    )
    out = scrub(text, known=("Nguyễn Thị Hoa", "số 12 ngõ 34 Đội Cấn"))
    for gone in (
        "NGUYỄN THỊ HOA",
        "Đội Cấn",
        "912 345 678",
        "0912.345.678",
        "example.vn",
        "001203",
    ):
        assert gone not in out
    assert out.count(HIDDEN) == 6


def test_scrub_keeps_dates_counts_and_readings() -> None:
    text = "Từ 19.08.2021 đến nay, 20 công nhân ở ngõ 12 thiếu gạo; SpO2 91%, năm 2021 - 2022"
    assert scrub(text, known=("", "ab")) == text


def test_secrets_are_read_like_case_codes() -> None:
    secret = new_secret()
    assert normalise_secret(secret.lower().replace("-", " ")) == secret
    assert normalise_secret("OIL00-11111") == "01100-11111"
    assert normalise_secret("ABCD") is None and normalise_secret("") is None
    assert len({new_secret() for _ in range(100)}) == 100


def test_every_mistake_of_the_form_is_named_at_once() -> None:
    errors = check_report(Report(description=" ", ward_code="", phone="abc", channel="fax"))
    assert set(errors) == {"description", "ward_code", "phone", "form"}
    assert check_report(Report(description="Đèn đường hỏng cả tuần", ward_code="00004")) == {}
