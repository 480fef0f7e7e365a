"""The compiled prediction path gives what scikit-learn gives.

`TriageModel.predict` and `scores` no longer call scikit-learn (hotline/triage/compiled.py);
here scikit-learn itself is the reference: `FeatureUnion.transform`, then
`CalibratedClassifierCV.predict_proba` and `LogisticRegression.predict_proba`, and the phrase
rule as it was written over scikit-learn's sparse row. Every corpus and fresh-probe text is
checked, for the corpus model and for models of a small site history (three categories, two
categories, no urgent examples), so a wrong step (tf, idf, norm, decision, sigmoid, the
per-fold normalisation or its binary case, the fold mean) fails.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV

from hotline.triage.corpus import Example, load_corpus
from hotline.triage.model import PHRASES_SHOWN, TriageModel, fit
from hotline.triage.normalise import normalise
from hotline.triage.service import corpus_model, suggest

FRESH_PROBE = Path(__file__).parent / "data" / "fresh_probe.jsonl"
TOLERANCE = 1e-12  # observed differences are a few 1e-16 (the order of additions differs)


def texts() -> list[str]:
    return [e.text for e in load_corpus()] + [e.text for e in load_corpus(FRESH_PROBE)]


def history(per_category: dict[str, int], *, urgent: bool = True) -> list[Example]:
    """A small site's confirmed cases: n corpus messages of some categories, a third of
    them urgent where the category has urgent ones (none if not `urgent`)."""
    out: list[Example] = []
    for category, n in per_category.items():
        rows = [e for e in load_corpus() if e.category == category]
        flagged = [e for e in rows if e.urgent][: n // 3 if urgent else 0]
        out += flagged + [e for e in rows if not e.urgent][: n - len(flagged)]
    return out


def trained(examples: list[Example]) -> TriageModel:
    return fit(
        [e.text for e in examples], [e.category for e in examples], [e.urgent for e in examples]
    )


MODELS: dict[str, Any] = {
    "corpus": corpus_model,
    # "khac" has 2 examples: left out by fit, so 3 categories remain
    "three_categories": lambda: trained(
        history({"cap_cuu": 12, "tiem_vac_xin": 9, "xet_nghiem": 7, "khac": 2})
    ),
    "two_categories": lambda: trained(history({"cap_cuu": 10, "an_ninh_trat_tu": 10})),
    "no_urgent_examples": lambda: trained(
        history({"tiem_vac_xin": 8, "xet_nghiem": 8, "di_lai_giay_to": 8}, urgent=False)
    ),
}


def reference_phrases(
    model: TriageModel, row: Any, clf: Any, classes: list[Any], label: Any
) -> list[str]:
    """The phrase rule over scikit-learn's sparse row, as it was before compiling."""
    word_vec = model.features.transformer_list[0][1]
    n_words = len(word_vec.vocabulary_)
    if isinstance(clf, CalibratedClassifierCV):
        weights = np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0)
    else:
        weights = clf.coef_
    if weights.shape[0] == 1:
        coef = weights[0] * (1 if label == classes[1] else -1)
    else:
        coef = weights[classes.index(label)]
    names = word_vec.get_feature_names_out()
    scored = [
        (float(v) * float(coef[j]), str(names[j]))
        for j, v in zip(row.indices, row.data, strict=True)
        if j < n_words and coef[j] > 0
    ]
    scored.sort(reverse=True)
    top = [name for _, name in scored[: PHRASES_SHOWN * 3]]
    kept = [n for n in top if not any(n != o and n in o.split() for o in top)]
    return kept[:PHRASES_SHOWN]


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_matches_scikit_learn_on_every_text(name: str) -> None:
    model: TriageModel = MODELS[name]()
    all_texts = texts()
    x = model.features.transform([normalise(t) for t in all_texts]).tocsr()
    proba = model.category_clf.predict_proba(x)
    classes = [str(c) for c in model.category_clf.classes_]
    urgent = model.urgent_clf.predict_proba(x)[:, 1] if model.urgent_clf is not None else None
    assert (model.urgent_clf is None) == (name == "no_urgent_examples")
    assert len(classes) == {"corpus": 13, "three_categories": 3}.get(name, len(classes))
    if name == "two_categories":
        assert len(classes) == 2
    for i, text in enumerate(all_texts):
        pred = model.predict(text)
        got = dict(pred.ranked)
        assert np.allclose([got[c] for c in classes], proba[i], rtol=0, atol=TOLERANCE), text
        ranked = sorted(zip(classes, proba[i].tolist(), strict=True), key=lambda cp: -cp[1])
        assert [c for c, _ in pred.ranked] == [c for c, _ in ranked], text
        row = x[[i]]
        top = ranked[0][0]
        assert pred.category_phrases == reference_phrases(
            model, row, model.category_clf, classes, top
        ), text
        if urgent is None:
            assert pred.urgent_probability == 0.0
            assert pred.urgent_phrases == []
        else:
            assert abs(pred.urgent_probability - urgent[i]) <= TOLERANCE, text
            assert pred.urgent_phrases == reference_phrases(
                model, row, model.urgent_clf, list(model.urgent_clf.classes_), True
            ), text


@pytest.mark.parametrize("name", ["corpus", "two_categories"])
def test_scores_match_scikit_learn_predict(name: str) -> None:
    model: TriageModel = MODELS[name]()
    all_texts = texts()
    x = model.features.transform([normalise(t) for t in all_texts])
    categories, urgent = model.scores(all_texts)
    assert categories == [str(c) for c in model.category_clf.predict(x)]
    assert model.urgent_clf is not None
    assert np.allclose(urgent, model.urgent_clf.predict_proba(x)[:, 1], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", list(MODELS))
def test_urgency_from_the_text_alone_is_scikit_learns(name: str) -> None:
    """Intake's urgency-only question (`urgent_proba_of`, no row built) gives what
    scikit-learn gives, texts with repeated words and features included."""
    model: TriageModel = MODELS[name]()
    docs = [normalise(t) for t in texts()]
    docs += ["sot sot sot cao cao kho tho kho tho", "", "zzzz qqqq", "a a a a a a a a"]
    fast = model.compiled()
    if model.urgent_clf is None:
        assert all(fast.urgent_proba_of(d) is None for d in docs)
        return
    expected = model.urgent_clf.predict_proba(model.features.transform(docs))[:, 1]
    got = [fast.urgent_proba_of(d) for d in docs]
    assert np.allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_feature_row_is_the_same_as_scikit_learns() -> None:
    """TF-IDF values bit for bit, so phrase ties break the same way; twice per text, since
    the second time each word's character n-grams come from the per-word cache."""
    model = corpus_model()
    fast = model.compiled()
    for text in texts():
        doc = normalise(text)
        x = model.features.transform([doc]).tocsr()
        for _ in range(2):
            row = fast.row(doc)
            assert np.array_equal(row.cols, x.indices), text
            assert np.array_equal(row.vals, x.data), text


@pytest.mark.parametrize(
    "doc",
    ["Khó  THỞ\tquá, SpO2 91%", "a b  c", "  ", "x", "trẻ sốt 39,5 độ (bé 2 tuổi)\n\ncứu"],
)
def test_the_analysers_give_scikit_learns_features_for_any_text(doc: str) -> None:
    """Row() is also given raw text (upper case, runs of spaces, tabs, one-letter words)."""
    model = corpus_model()
    fast = model.compiled()
    for vec, (_, sk) in zip(fast.vectorizers, model.features.transformer_list, strict=True):
        assert vec.analyze(doc) == sk.build_analyzer()(doc)
        expected = [sk.vocabulary_[g] for g in sk.build_analyzer()(doc) if g in sk.vocabulary_]
        assert sorted(vec.columns(doc)) == sorted(expected)
    x = model.features.transform([doc]).tocsr()
    assert np.array_equal(fast.row(doc).cols, x.indices)
    assert np.array_equal(fast.row(doc).vals, x.data)


def test_a_text_without_known_features_gets_sklearns_answer() -> None:
    model = corpus_model()
    x = model.features.transform([normalise("qqqq")])
    pred = model.predict("qqqq")
    classes = model.categories
    got = dict(pred.ranked)
    assert np.allclose(
        [got[c] for c in classes], model.category_clf.predict_proba(x)[0], atol=TOLERANCE
    )
    assert pred.category_phrases == []


def test_compiled_arrays_are_never_stored_in_the_blob() -> None:
    model = MODELS["three_categories"]()
    before = model.to_bytes()
    first = suggest(model, "bé sốt cao co giật")
    assert "_compiled" in model.__dict__
    assert model.to_bytes() == before
    loaded = TriageModel.from_bytes(before)
    assert "_compiled" not in loaded.__dict__
    assert suggest(loaded, "bé sốt cao co giật") == first


def test_calibrators_all_saying_zero_give_the_uniform_distribution_as_sklearn_does() -> None:
    """sklearn's edge case: every class calibrated to exactly 0 → uniform, not 0/0."""
    model = copy.deepcopy(MODELS["three_categories"]())
    for cc in model.category_clf.calibrated_classifiers_:
        for calibrator in cc.calibrators:
            calibrator.b_ = 1e4  # expit(-(a·d + 1e4)) underflows to 0.0
    x = model.features.transform([normalise("tiêm mũi 2 ở đâu")])
    expected = model.category_clf.predict_proba(x)[0]
    assert np.allclose(expected, 1 / 3)
    got = dict(model.predict("tiêm mũi 2 ở đâu").ranked)
    assert np.allclose([got[c] for c in model.categories], expected, rtol=0, atol=TOLERANCE)
