"""Urgency reasons quote the citizen's own words (triage/quote.py), once each."""

from __future__ import annotations

import pytest

from hotline.triage.quote import find, quote_reasons

pytestmark = pytest.mark.anyio

TEXT = "Mẹ tôi khó thở, SpO2 91%… cần xe cấp cứu gấp"


async def test_suggestions_keep_the_phrase_and_add_the_written_quote(client, world) -> None:
    r = await client.post(
        "/api/v1/suggestions", json={"text": TEXT}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    reasons = r.json()["triage"]["reasons"]
    rules = {x["code"]: x for x in reasons if x["kind"] == "rule"}
    # The old fields are as they were: the normalised phrase.
    assert rules["kho_tho"]["phrase"] == "kho tho" and rules["kho_tho"]["label"] == "Khó thở"
    assert rules["kho_tho"]["quote"] == "khó thở"
    assert rules["spo2_thap"]["quote"] == "SpO2 91"
    assert any(x["quote"] == "xe cấp cứu" for x in rules.values())
    quotes = [q for x in reasons if x["kind"] != "category" and (q := x["quote"])]
    # No reason repeats words another reason already quotes.
    words = [w.lower() for q in quotes for w in q.replace(",", " ").split()]
    assert len(words) == len(set(words)), quotes
    assert all(x["quote"] is None or x["quote"] in TEXT for x in reasons if x["kind"] != "category")


def test_the_model_quotes_only_what_no_rule_quoted() -> None:
    reasons = quote_reasons(
        TEXT,
        [
            {"kind": "rule", "code": "kho_tho", "label": "Khó thở", "phrase": "kho tho"},
            {"kind": "rule", "code": "spo2_thap", "label": "SpO2", "phrase": "spo2 91"},
            {"kind": "model", "code": "model_urgent", "label": "M", "phrase": "kho tho, gap, spo2"},
            {"kind": "model", "code": "other", "label": "N", "phrase": "kho tho"},
        ],
    )
    assert [r["quote"] for r in reasons] == ["khó thở", "SpO2 91", "gấp", None]


def test_shorthand_and_unmappable_phrases() -> None:
    # "ko" is spelled out as "khong": the quote is the word as written.
    assert find("e ko thở dc", "khong tho duoc").text == "ko thở dc"  # type: ignore[union-attr]
    assert find("khó thở", "sot cao") is None


def test_a_rule_of_two_phrases_quotes_each_as_written() -> None:
    text = "Mẹ tôi sống 1 mình, từ sáng gọi ko nghe máy"
    reasons = quote_reasons(
        text,
        [
            {
                "kind": "rule",
                "code": "kiem_tra_an_toan",
                "label": "Cần kiểm tra an toàn",
                "phrase": "song 1 minh, goi khong nghe may",
            },
            {"kind": "rule", "code": "x", "label": "X", "phrase": "song 1 minh, kho tho"},
        ],
    )
    assert [r["quote"] for r in reasons] == ["sống 1 mình, gọi ko nghe máy", None]
