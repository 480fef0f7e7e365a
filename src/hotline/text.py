"""Vietnamese text folding for search that ignores diacritics and case."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def fold(text: str) -> str:
    """'Hỗ trợ GẠO, Đà Nẵng' -> 'ho tro gao da nang' ('đ' has no decomposition: mapped by hand)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    stripped = _NON_WORD.sub(" ", stripped.lower())
    return _SPACES.sub(" ", stripped).strip()


def search_terms(query: str) -> list[str]:
    """Words of a search query, folded, at most 8 so one query cannot grow unbounded."""
    return [w for w in fold(query).split(" ") if w][:8]
