"""Vietnamese text folding for search that ignores diacritics and case, and the tidying and
checks of names people type."""

from __future__ import annotations

import re
import unicodedata

# Each run of punctuation and spaces becomes one space: what replacing punctuation by spaces
# and then collapsing the spaces gives, in one pass (fold runs on every intake).
_NON_WORD_RUN = re.compile(r"\W+")


class _FoldTable(dict[int, str]):
    """str.translate table filled on demand: each character's base letters, marks dropped.

    Folding character by character gives what decomposing the whole text would (combining
    marks are dropped, so their order never matters), and a table lookup per character is
    several times faster than NFD plus a category test per character: fold() runs on every
    case intake and every search.
    """

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in "đĐ":  # no Unicode decomposition: mapped by hand
            folded = "d" if ch == "đ" else "D"
        else:
            decomposed = unicodedata.normalize("NFD", ch)
            folded = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """'Hỗ trợ GẠO, Đà Nẵng' -> 'ho tro gao da nang'."""
    return _NON_WORD_RUN.sub(" ", text.translate(_FOLD).lower()).strip()


def strip_marks(text: str) -> str:
    """'Hỗ trợ GẠO, Đà Nẵng' -> 'Ho tro GAO, Da Nang': case and punctuation kept."""
    return text.translate(_FOLD)


def search_terms(query: str) -> list[str]:
    """Words of a search query, folded, at most 8 so one query cannot grow unbounded."""
    return [w for w in fold(query).split(" ") if w][:8]


# Control and format characters (Unicode categories Cc, Cf: bidi overrides such as U+202E,
# zero-width spaces and joiners) would let a name display as something else, or make one
# person's name a different string; private-use, surrogate and unassigned code points have
# no place in a name either.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def hidden_characters(text: str) -> str:
    """The refused characters of `text` as "U+202E, ..." (empty when there are none)."""
    return ", ".join(
        sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in REFUSED_CATEGORIES})
    )


def without_hidden(text: str) -> str:
    """`text` less its refused characters: for a name a provider sends, which is shown but
    never a reason to refuse the citizen's message."""
    return "".join(c for c in text if unicodedata.category(c) not in REFUSED_CATEGORIES)


def tidy(text: str) -> str:
    """A typed name as kept: NFC, whitespace trimmed and collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())
