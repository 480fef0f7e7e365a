"""Normalisation: folding, stretched letters, chat abbreviations, glued SpO2 values."""

from __future__ import annotations

import pytest

from hotline.triage.normalise import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Khó thở", "kho tho"),
        ("KHÓ THỞ", "kho tho"),
        ("ko thở đc", "khong tho duoc"),
        ("k thở dc", "khong tho duoc"),
        ("e hết gạo r", "em het gao roi"),
        ("mk ko bik lm j", "minh khong biet lam gi"),
        ("bn cho mk xin sdt", "ban cho minh xin so dien thoai"),
        ("ng già", "nguoi gia"),
        ("a ơi giúp e ạ", "a oi giup em a"),
        ("Đc ko ạ", "duoc khong a"),
        ("SpO2: 91%", "spo2 91"),
        ("spo291", "spo2 91"),
        ("sp02 89", "spo2 89"),
        ("sop294", "spo2 94"),
        ("sốt 39độ", "sot 39 do"),
        ("cứuuuuu vớiiii", "cuu voi"),
        ("khóoooo thởởở", "kho tho"),
        ("nhà có 50k", "nha co 50k"),
        ("F0 và F1", "f0 va f1"),
        ("tiêm vx mũi 2", "tiem vac xin mui 2"),
    ],
)
def test_normalise_folds_and_expands(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_same_text_with_and_without_diacritics_normalises_alike() -> None:
    assert normalise("Bà tôi bất tỉnh, gọi không tỉnh") == normalise("ba toi bat tinh, goi ko tinh")


def test_money_and_covid_codes_are_not_taken_for_abbreviations() -> None:
    assert normalise("50k 100k f0 f1 f2").split() == ["50k", "100k", "f0", "f1", "f2"]
