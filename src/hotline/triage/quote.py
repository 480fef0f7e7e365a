"""The words of a reason as the citizen wrote them.

Rules and the model match normalised text ("kho tho", "spo2 91"): lower case, folded, with
chat shorthand spelled out. Normalising is word by word, so each written word maps to the
normalised words it became; a phrase found in that sequence quotes the written words it
spans ("khó thở", "SpO2 91"). A phrase not found that way (normalising across words, say)
gets no quote: the page then shows the reason's label alone, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hotline.triage.normalise import normalise

# A written word as fold() sees one: letters and digits (punctuation splits words).
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Span:
    start: int  # index of the first normalised word
    end: int  # one past the last
    text: str  # the written words


def _written(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The normalised words of `text`, each with the character span of its written word."""
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _WORD.finditer(text):
        for word in normalise(match.group(0)).split():
            words.append(word)
            spans.append(match.span())
    return words, spans


def find(text: str, phrase: str, *, taken: Sequence[Span] = ()) -> Span | None:
    """Where `phrase` (normalised words) stands in `text`, as written; first a place that
    does not overlap `taken`, so a phrase said twice is quoted where it was not yet."""
    wanted = phrase.split()
    words, spans = _written(text)
    if not wanted or normalise(text).split() != words:
        return None
    places = [
        i for i in range(len(words) - len(wanted) + 1) if words[i : i + len(wanted)] == wanted
    ]
    free = [i for i in places if not any(i < s.end and s.start < i + len(wanted) for s in taken)]
    for i in free or places:
        end = i + len(wanted)
        return Span(i, end, text[spans[i][0] : spans[end - 1][1]])
    return None


def quote_reasons(text: str, reasons: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    """Each reason with `quote`: the rule's phrase(s) as written; for the model's phrases,
    those no rule already quoted, joined. None when nothing is left to quote."""
    quoted: list[Span] = []
    out: list[dict[str, str | None]] = []
    for reason in reasons:
        phrase = reason.get("phrase") or ""
        if reason.get("kind") == "rule":
            # A rule that needs two phrases (the welfare check) names both, comma-separated;
            # normalised text has no commas of its own.
            spans = [find(text, piece.strip()) for piece in phrase.split(",")]
            found = [s for s in spans if s is not None]
            quoted += found
            quote = ", ".join(s.text for s in found) if found and len(found) == len(spans) else None
            out.append({**reason, "quote": quote})
            continue
        parts: list[str] = []
        for piece in (p.strip() for p in phrase.split(",")):
            span = find(text, piece, taken=quoted) if piece else None
            if span is None or any(s.start <= span.start and span.end <= s.end for s in quoted):
                continue
            if span.text.lower() not in (p.lower() for p in parts):
                parts.append(span.text)
        out.append({**reason, "quote": ", ".join(parts) or None})
    return out
