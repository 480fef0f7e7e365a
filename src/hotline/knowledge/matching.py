"""Turning free text into search terms and scoring an article against them (pure Python).

The database finds and orders candidates (FTS5 on SQLite, a tsvector on PostgreSQL); the
score shown to operators and compared with the auto-answer threshold is computed here, so
it is the same number on both engines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.text import fold

# Folded Vietnamese function words and chat filler: they match almost every article and
# say nothing about the topic ("cho em hỏi ... ạ"). Content words such as "di" (go) stay.
_STOPWORDS = """
    a ah ak alo anh bac ban bi cac cai can cau cha chi cho chu co cua da dang day de
    den duoc em gi giup ha hay hoi ko k khong la lam luc ma minh mot nao ne neu nhe nhung
    nhieu no nua oi o ong qua ra rang roi rat sao se thi the thay thua toi tu va van
    vay ve vi voi xin xem u uh vui long
"""
# "nha" is not one: "nhà" (home, "cách ly tại nhà") matters more than the particle "nhé".
STOPWORDS = frozenset(_STOPWORDS.split())
MAX_TERMS = 16
_ASCII_WORD = re.compile(r"[0-9a-z]+")


def words(text: str) -> list[str]:
    """Folded ASCII words of a text, in order (tsquery/FTS5-safe: letters and digits only)."""
    return _ASCII_WORD.findall(fold(text))


def query_terms(text: str, *, limit: int = MAX_TERMS) -> list[str]:
    """Distinct content words of a query or a citizen's message, in order, at most `limit`.

    Stop words are dropped unless nothing else is left ("cho toi hoi" still searches).
    """
    seen: dict[str, None] = {}
    for w in words(text):
        seen.setdefault(w, None)
    terms = [w for w in seen if w not in STOPWORDS] or list(seen)
    return terms[:limit]


@dataclass(frozen=True)
class Match:
    score: float
    matched: tuple[str, ...]


def score(terms: list[str], *, question: str, body: str, prefix_last: bool = False) -> Match:
    """How well an article answers a text, from 0 to 1.

    Half is how much of the text the article covers (a word in the question counts 1, in the
    answer or source 0.5); half is how much of the article's question the text mentions, so a
    long message that contains a short question in full still scores high.
    """
    if not terms:
        return Match(0.0, ())
    q_words = set(question.split())
    b_words = set(body.split())
    covered = 0.0
    matched: list[str] = []
    for i, term in enumerate(terms):
        prefix = prefix_last and i == len(terms) - 1
        if _hit(term, q_words, prefix):
            covered += 1.0
        elif _hit(term, b_words, prefix):
            covered += 0.5
        else:
            continue
        matched.append(term)
    q_content = [w for w in dict.fromkeys(question.split()) if w not in STOPWORDS]
    said = set(matched)
    mentioned = sum(1 for w in q_content if w in said) / len(q_content) if q_content else 0.0
    value = 0.5 * covered / len(terms) + 0.5 * mentioned
    return Match(round(value, 3), tuple(matched))


def _hit(term: str, vocabulary: set[str], prefix: bool) -> bool:
    if term in vocabulary:
        return True
    return prefix and any(w.startswith(term) for w in vocabulary)
