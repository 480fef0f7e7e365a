"""Folding for search and triage: diacritics and case dropped, punctuation and spaces one."""

from __future__ import annotations

import random
import re
import unicodedata

from hotline.text import fold, strip_marks


def _by_definition(text: str) -> str:
    """Decompose, drop combining marks, đ by hand, lower; punctuation to spaces, spaces
    collapsed."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    marks_dropped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    spaced = re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFC", marks_dropped).lower())
    return re.sub(r"\s+", " ", spaced).strip()


def test_fold_examples() -> None:
    assert fold("Hỗ trợ GẠO, Đà Nẵng") == "ho tro gao da nang"
    assert fold("  Khó thở!!  SpO2: 91%\t\nở   P.Láng_Hạ ") == "kho tho spo2 91 o p lang_ha"
    assert fold("...,;") == ""
    assert strip_marks("Hỗ trợ GẠO, Đà Nẵng") == "Ho tro GAO, Da Nang"


def test_fold_agrees_with_its_definition_on_mixed_text() -> None:
    """Vietnamese letters with every mark, punctuation, every kind of space, digits, other
    scripts, emoji: the same folded text."""
    rng = random.Random(1022)
    alphabet = (
        "aăâbcdđeêghiklmnoôơpqrstuưvxy"
        "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
        "ĐĂÂÊÔƠƯÁẶỆ0123456789_ .,;:!?()[]-–—/\\\"'“”%+*#@\t\n\r\u00a0\u2003\u3000"
        "中文😀ß"
    )
    for _ in range(5000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 40)))
        assert fold(text) == _by_definition(text), repr(text)
