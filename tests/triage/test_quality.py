"""Model quality on the held-out split of the shipped corpus (never trained on).

The floors are the measured values (docs/triage.md) minus a margin; urgent recall is the
issue's requirement: an emergency must not be missed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hotline.triage.corpus import CORPUS_DIR, load_corpus, split_corpus
from hotline.triage.evaluate import evaluate
from hotline.triage.service import corpus_model

MACRO_F1_FLOOR = 0.80  # measured 0.830
URGENT_RECALL_FLOOR = 0.95  # measured 1.00
WELFARE = Path(__file__).parent / "data" / "welfare_heldout.jsonl"
WELFARE_RECALL_FLOOR = 0.90  # measured 1.00 (40 urgent); rules alone 0.975
WELFARE_RULES_RECALL_FLOOR = 0.85  # measured 0.975
WELFARE_FALSE_ALARMS_CEILING = 0.15  # measured 0.05 (2 of 40, both the model's)
WELFARE_RULES_FALSE_ALARMS_CEILING = 0.05  # measured 0.00
DEFAULT_CODES = {
    "cap_cuu", "ho_tro_kho_khan", "bao_cao_ca_benh", "tu_van_suc_khoe", "phan_anh_vi_pham",
    "co_so_cach_ly", "chinh_sach_ho_tro", "tiem_vac_xin", "di_lai_giay_to", "xet_nghiem",
    "an_ninh_trat_tu", "thong_tin_chi_dao", "khac",
}  # fmt: skip


@pytest.fixture(scope="module")
def metrics() -> dict:
    _, held_out = split_corpus()
    return evaluate(corpus_model(), held_out)


def test_corpus_is_large_covers_every_category_and_has_urgent_examples_in_many() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 1500
    counts = Counter(e.category for e in corpus)
    assert set(counts) == DEFAULT_CODES
    assert min(counts.values()) >= 80
    urgent_categories = {e.category for e in corpus if e.urgent}
    assert len(urgent_categories) >= 8


def test_held_out_split_is_fixed_and_disjoint_from_training() -> None:
    train, held_out = split_corpus()
    assert {e.text for e in train}.isdisjoint({e.text for e in held_out})
    assert 0.15 <= len(held_out) / (len(train) + len(held_out)) <= 0.25
    assert {e.category for e in held_out} == DEFAULT_CODES


def test_macro_f1_on_held_out_split(metrics: dict) -> None:
    assert metrics["macro_f1"] >= MACRO_F1_FLOOR


def test_urgent_recall_on_held_out_split(metrics: dict) -> None:
    assert metrics["urgent"]["support"] >= 40
    assert metrics["urgent"]["recall"] >= URGENT_RECALL_FLOOR


def test_every_category_is_learned(metrics: dict) -> None:
    assert all(m["f1"] >= 0.5 for m in metrics["per_category"].values()), metrics["per_category"]


@pytest.mark.parametrize(
    ("text", "category", "urgent"),
    [
        ("ba e kho tho, spo2 91, cuu voi", "cap_cuu", True),
        ("nhà em hết gạo 3 ngày rồi, có con nhỏ", "ho_tro_kho_khan", False),
        ("cho hỏi lịch tiêm mũi 2 ở phường", "tiem_vac_xin", False),
        ("có nhóm thanh niên đang chém nhau trước chợ", "an_ninh_trat_tu", True),
        ("e test nhanh 2 vach roi, bao cho ai", "bao_cao_ca_benh", False),
    ],
)
def test_typical_messages(text: str, category: str, urgent: bool) -> None:
    from hotline.triage.service import suggest

    s = suggest(corpus_model(), text)
    assert s.category == category
    assert s.urgent is urgent
    assert 0 < s.confidence <= 1


def test_fresh_probe_written_after_the_model_was_frozen() -> None:
    """56 messages written after the corpus, lexicon and model were fixed (docs/triage.md);
    a rough check of how the model does on phrasing it has never seen."""
    from pathlib import Path

    from hotline.triage.service import suggest

    probe = load_corpus(Path(__file__).parent / "data" / "fresh_probe.jsonl")
    model = corpus_model()
    results = [(e, suggest(model, e.text)) for e in probe]
    accuracy = sum(s.category == e.category for e, s in results) / len(results)
    urgent = [s.urgent for e, s in results if e.urgent]
    assert accuracy >= 0.78  # measured 0.875
    assert sum(urgent) / len(urgent) >= 0.95  # measured 1.00 (16 urgent)


def test_welfare_set_is_never_trained_on_and_the_split_does_not_move() -> None:
    """The welfare examples of the corpus are training only; the held-out split is drawn
    from corpus.jsonl alone, as before they were added."""
    train, held_out = split_corpus()
    welfare = load_corpus(WELFARE)
    assert {e.text for e in welfare}.isdisjoint({e.text for e in (*train, *held_out)})
    assert sum(e.urgent for e in welfare) >= 30 and sum(not e.urgent for e in welfare) >= 30
    added = load_corpus(CORPUS_DIR / "welfare.jsonl")
    assert set(added) <= set(train) and set(added).isdisjoint(held_out)
    assert len(held_out) == 344 and sum(e.urgent for e in held_out) == 58


def test_welfare_checks_are_urgent_and_ordinary_questions_are_not() -> None:
    """Reports of someone unreachable, alone or getting worse, and messages using the same
    words about offices, papers and benefits (tests/triage/data/welfare_heldout.jsonl)."""
    metrics = evaluate(corpus_model(), load_corpus(WELFARE))["urgent"]
    assert metrics["recall"] >= WELFARE_RECALL_FLOOR
    assert metrics["recall_rules_only"] >= WELFARE_RULES_RECALL_FLOOR
    assert metrics["false_alarm_rate"] <= WELFARE_FALSE_ALARMS_CEILING
    assert metrics["false_alarm_rate_rules_only"] <= WELFARE_RULES_FALSE_ALARMS_CEILING
