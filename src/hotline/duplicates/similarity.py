"""How alike two requests are: text, place and time, as one score with its reasons.

Pure functions over already-loaded values (no database), so suggestion, clustering and the
benchmark's quality check all score pairs the same way.

Text is compared as citizens write it: folded (no diacritics, no case) with chat shorthand
spelled out by the triage normaliser, then reduced to content words. Two measures are
blended: cosine over words and word pairs (Vietnamese meaning lives in two-syllable words,
"tụ tập", "khẩu trang"), and Dice over character trigrams of the content words, which
survives typos ("tu tapj", "khau trag") that break whole words. scikit-learn's vectorisers
do the same sums but cost far more per call than these set operations on the few hundred
short texts a suggestion scores.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from hotline.text import fold
from hotline.triage.normalise import normalise

# Folded function words and hotline boilerplate ("xin hỗ trợ", "người dân báo"): shared by
# most requests, so they would make unrelated requests look alike. A word list reads
# better than a hundred quoted strings.
STOPWORDS = frozenset(
    """
    a ai anh ba bac bi bo cac cai chau cho chi chu co con cua cung da dang day de den di do
    duoc em gi gium giup ha hay hoi huong khi khong kia la lai lam len luc ma minh moi mot
    nay neu nhe nho nhung nua o oi ong qua ra rang rat roi se so sao ta tai thi thay
    the theo thu toi tren tro trong va vao van vay ve vi voi vua xin xa
    nguoi dan bao phan anh yeu cau duong pho phuong so ngo ngach kiet hem hien hom
    """.split()  # noqa: SIM905
)
WORD_WEIGHT = 0.6
TRIGRAM_WEIGHT = 0.4
# Share of the score from each signal; text dominates so place and time alone never suggest.
TEXT_SHARE = 0.7
PLACE_SHARE = 0.15
TIME_SHARE = 0.1
CATEGORY_SHARE = 0.05
NEARBY_METRES = 300.0
MAX_SHARED_WORDS = 6
# About 13 MB per process (≈6 kB an entry): recent cases, reused across suggestions.
FEATURE_CACHE = 2048


@dataclass(frozen=True)
class TextFeatures:
    words: Counter[str]
    trigrams: frozenset[str]
    content: tuple[str, ...]
    norm: float


@dataclass(frozen=True)
class Place:
    ward_code: str | None = None
    address: str = ""
    lat: float | None = None
    long: float | None = None
    category_code: str | None = None


@dataclass(frozen=True)
class Match:
    score: float
    text: float
    reasons: dict[str, object]


@functools.lru_cache(maxsize=FEATURE_CACHE)
def features(text: str) -> TextFeatures:
    """The text as bags of content words, word pairs and character trigrams.

    Cached by text: in a surge every new report of a ward is scored against the same recent
    cases, and normalising their texts is most of the cost of a suggestion.
    """
    # Numbers stay: "ngõ 45" and "ngõ 12" of one street are different places.
    content = tuple(t for t in normalise(text).split() if t not in STOPWORDS)
    # Pairs over the content sequence: "tu tap" and "dong nguoi" survive stopword removal.
    words = Counter([*content, *(f"{a} {b}" for a, b in itertools.pairwise(content))])
    padded = [f" {w} " for w in content if not w.isdigit()]
    trigrams = frozenset([p[i : i + 3] for p in padded for i in range(len(p) - 2)])
    norm = math.sqrt(sum(v * v for v in words.values()))
    return TextFeatures(words=words, trigrams=trigrams, content=content, norm=norm)


@functools.lru_cache(maxsize=FEATURE_CACHE)
def _address_key(address: str) -> str:
    return fold(address)


def text_similarity(a: TextFeatures, b: TextFeatures) -> float:
    """0..1: cosine over words and word pairs blended with trigram Dice."""
    if not a.norm or not b.norm:
        return 0.0
    small, large = (a.words, b.words) if len(a.words) <= len(b.words) else (b.words, a.words)
    dot = sum(v * large[k] for k, v in small.items() if k in large)
    cosine = dot / (a.norm * b.norm)
    total = len(a.trigrams) + len(b.trigrams)
    dice = 2 * len(a.trigrams & b.trigrams) / total if total else 0.0
    return WORD_WEIGHT * cosine + TRIGRAM_WEIGHT * dice


def shared_words(a: TextFeatures, b: TextFeatures) -> list[str]:
    seen = set(b.content)
    out: list[str] = []
    for word in a.content:
        if word in seen and word not in out:
            out.append(word)
    return out[:MAX_SHARED_WORDS]


def _metres(a: Place, b: Place) -> float | None:
    if a.lat is None or a.long is None or b.lat is None or b.long is None:
        return None
    # Equirectangular is exact enough at the few hundred metres that matter here.
    x = math.radians(b.long - a.long) * math.cos(math.radians((a.lat + b.lat) / 2))
    y = math.radians(b.lat - a.lat)
    return 6_371_000 * math.hypot(x, y)


def place_closeness(a: Place, b: Place) -> tuple[float, dict[str, object]]:
    """1 for the same address or within NEARBY_METRES, 0.6 for the same ward, else 0."""
    reasons: dict[str, object] = {}
    score = 0.0
    if a.ward_code is not None and a.ward_code == b.ward_code:
        reasons["same_ward"] = True
        score = 0.6
    # An address with no words ("-", ".") says nothing: it is not the same as an empty one.
    key = _address_key(a.address)
    if key and key == _address_key(b.address):
        reasons["same_address"] = True
        score = 1.0
    metres = _metres(a, b)
    if metres is not None and metres <= NEARBY_METRES:
        reasons["metres_apart"] = round(metres)
        score = 1.0
    return score, reasons


def score_pair(
    a: TextFeatures,
    a_place: Place,
    a_at: datetime,
    b: TextFeatures,
    b_place: Place,
    b_at: datetime,
    *,
    window_hours: float,
    threshold: float = 0.0,
) -> Match:
    """One score in 0..1 with the reasons a person can check (only spelled out for scores
    at or above `threshold`: most pairs scored are dismissed)."""
    text = text_similarity(a, b)
    place, reasons = place_closeness(a_place, b_place)
    minutes = abs((a_at - b_at).total_seconds()) / 60
    closeness = max(0.0, 1 - minutes / (window_hours * 60))
    same_category = a_place.category_code is not None and (
        a_place.category_code == b_place.category_code
    )
    score = (
        TEXT_SHARE * text
        + PLACE_SHARE * place
        + TIME_SHARE * closeness
        + CATEGORY_SHARE * same_category
    )
    if score < threshold:
        return Match(score=round(score, 3), text=text, reasons={})
    reasons.update(
        {
            "similarity": round(text, 3),
            "shared_words": shared_words(a, b),
            "minutes_apart": round(minutes),
        }
    )
    if same_category:
        reasons["same_category"] = True
    return Match(score=round(score, 3), text=text, reasons=reasons)
