"""A fitted triage model as plain arrays, so one text is scored without scikit-learn's
per-call overhead.

Why: for a single short text, scikit-learn spends far more time validating input (`check_array`,
dataframe detection), dispatching `FeatureUnion.transform` through joblib and looping over
3 calibrated folds × 13 per-class calibrators than on the arithmetic itself (~220 texts/s
against ~2,000 needed). Here the same arithmetic is done once per text with a handful of numpy
calls over the text's non-zero columns only.

Every step mirrors scikit-learn 1.9's own code (named in each comment), and
tests/triage/test_compiled.py checks the probabilities against `predict_proba` on the whole
corpus, for many-class, few-class and two-class models. Anything this does not reproduce
(another calibration method, another norm) is refused when compiling, never approximated.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress, pairwise
from operator import eq
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion


@dataclass(frozen=True)
class Row:
    """One text's feature row: column indices (ascending) and values; the first `n_words`
    entries come from the word vectorizer (the only columns phrases are named from)."""

    cols: np.ndarray
    vals: np.ndarray
    n_words: int


@dataclass(frozen=True)
class _Vectorizer:
    analyze: Callable[[str], list[str]]
    # The vocabulary columns of the analyser's features of a text, repeated as often as
    # they occur (features outside the vocabulary left out).
    columns: Callable[[str], list[int]]
    vocabulary: dict[str, int]
    idf: np.ndarray | None
    sublinear: bool
    binary: bool
    l2: bool
    offset: int
    weight: float | None


class CompiledModel:
    """Built from a fitted FeatureUnion of TfidfVectorizers, a sigmoid-calibrated linear
    classifier and an optional binary logistic regression (what `model.fit` produces)."""

    def __init__(
        self,
        features: FeatureUnion,
        category_clf: CalibratedClassifierCV,
        urgent_clf: LogisticRegression | None,
    ) -> None:
        self.vectorizers = _vectorizers(features)
        self._compile_category(category_clf)
        self.urgent: tuple[np.ndarray, float] | None = None
        # Per vectorizer, per column: idf × the urgency weight, and idf² (urgent_proba_of).
        self._urgent_terms: list[tuple[list[float], list[float]]] = []
        if urgent_clf is not None:
            if urgent_clf.coef_.shape[0] != 1:
                raise ValueError("urgency model must be binary")
            coef = np.ascontiguousarray(urgent_clf.coef_[0], dtype=np.float64)
            self.urgent = (coef, float(urgent_clf.intercept_[0]))
            for v in self.vectorizers:
                own = coef[v.offset : v.offset + len(v.vocabulary)]
                idf = np.ones(len(own)) if v.idf is None else v.idf
                self._urgent_terms.append(((idf * own).tolist(), (idf * idf).tolist()))

    def _compile_category(self, clf: CalibratedClassifierCV) -> None:
        if clf.method != "sigmoid":
            raise ValueError(f"calibration {clf.method!r} is not compiled")
        classes = np.asarray(clf.classes_)
        n_classes = len(classes)
        folds = clf.calibrated_classifiers_
        coefs, intercepts, a, b, fold_of, class_of = [], [], [], [], [], []
        for f, cc in enumerate(folds):
            est = cc.estimator
            # _CalibratedClassifier.predict_proba: LabelEncoder over the classes, i.e. the
            # position of each of the estimator's classes in the sorted classes; in the binary
            # case the single decision column belongs to classes[1].
            pos = np.searchsorted(classes, est.classes_)
            if n_classes == 2:
                pos = pos + 1
            # zip(pos_class_indices, predictions.T, calibrators) stops at the shortest
            for k, (class_idx, calibrator) in enumerate(zip(pos, cc.calibrators, strict=False)):
                if k >= est.coef_.shape[0]:
                    break
                coefs.append(est.coef_[k])
                intercepts.append(est.intercept_[k])
                a.append(calibrator.a_)
                b.append(calibrator.b_)
                fold_of.append(f)
                class_of.append(int(class_idx))
        # Features × (fold, class): one gather of the text's rows and one product give every
        # decision value of every fold at once.
        self.cat_weights = np.ascontiguousarray(np.array(coefs, dtype=np.float64).T)
        self.cat_intercepts = np.array(intercepts, dtype=np.float64)
        self.cat_a = np.array(a, dtype=np.float64)
        self.cat_b = np.array(b, dtype=np.float64)
        self.fold_of = np.array(fold_of, dtype=np.intp)
        self.class_of = np.array(class_of, dtype=np.intp)
        self.n_folds = len(folds)
        self.n_classes = n_classes
        self.classes = [str(c) for c in classes]
        # The weights phrases are named from: the folds' mean, as before compiling.
        self.phrase_weights = np.mean([c.estimator.coef_ for c in folds], axis=0)

    def row(self, doc: str) -> Row:
        """TfidfVectorizer.transform of one normalised text, then FeatureUnion's hstack."""
        cols_parts, vals_parts = [], []
        n_words = 0
        for i, v in enumerate(self.vectorizers):
            hits = v.columns(doc)
            if not hits:
                continue
            # CountVectorizer._count_vocab: count the analyser's features in the vocabulary;
            # the matrix then has its indices sorted (np.unique sorts and counts at once).
            idx, counts = np.unique(np.array(hits, dtype=np.intp), return_counts=True)
            if i == 0:
                n_words = len(idx)
            vals = np.ones(len(idx)) if v.binary else counts.astype(np.float64)
            # TfidfTransformer.transform: log(tf) + 1, times idf, then normalize(norm="l2"),
            # whose loop (_inplace_csr_row_normalize_l2) sums the squares in index order and
            # leaves an all-zero row alone; the same order gives the same rounding.
            if v.sublinear:
                np.log(vals, vals)
                vals += 1.0
            if v.idf is not None:
                vals *= v.idf[idx]
            if v.l2:
                total = 0.0
                for x in vals.tolist():
                    total += x * x
                if total != 0.0:
                    vals /= math.sqrt(total)
            if v.weight is not None:
                vals *= v.weight
            cols_parts.append(idx + v.offset if v.offset else idx)
            vals_parts.append(vals)
        if not cols_parts:
            return Row(np.zeros(0, dtype=np.intp), np.zeros(0), 0)
        if len(cols_parts) == 1:
            return Row(cols_parts[0], vals_parts[0], n_words)
        return Row(np.concatenate(cols_parts), np.concatenate(vals_parts), n_words)

    def category_proba(self, row: Row) -> np.ndarray:
        """CalibratedClassifierCV.predict_proba for one row, in the order of `classes`."""
        # LinearSVC.decision_function: x · coef + intercept, for every fold and class
        decision = row.vals @ self.cat_weights[row.cols] + self.cat_intercepts
        # _SigmoidCalibration.predict: expit(-(a * T + b))
        calibrated = expit(-(self.cat_a * decision + self.cat_b))
        proba = np.zeros((self.n_folds, self.n_classes))
        proba[self.fold_of, self.class_of] = calibrated
        # _CalibratedClassifier.predict_proba's normalisation per fold
        if self.n_classes == 2:
            proba[:, 0] = 1.0 - proba[:, 1]
        else:
            total = proba.sum(axis=1)[:, np.newaxis]
            if total.all():
                proba /= total
            else:  # every calibrator said 0 for a fold: that fold is uniform
                uniform = np.full_like(proba, 1 / self.n_classes)
                proba = np.divide(proba, total, out=uniform, where=total != 0)
        # CalibratedClassifierCV.predict_proba: the mean over folds
        mean: np.ndarray = proba.sum(axis=0) / self.n_folds
        return mean

    def urgent_proba(self, row: Row) -> float | None:
        """LogisticRegression.predict_proba(x)[0, 1] for a binary model (_predict_proba_lr)."""
        if self.urgent is None:
            return None
        coef, intercept = self.urgent
        return float(expit(float(row.vals @ coef[row.cols]) + intercept))

    def urgent_proba_of(self, doc: str) -> float | None:
        """`urgent_proba(row(doc))`, to within rounding, without building the row: the
        question intake asks of most reports (their category given, their urgency not).

        Each vectorizer's part of the decision is Σ tf·idf·coef / ‖tf·idf‖ over the text's
        columns, so two sums are enough: taken over every feature found as if each column
        occurred once (sums of precomputed terms), then corrected for the few columns that
        repeat."""
        if self.urgent is None:
            return None
        z = self.urgent[1]
        for v, (idf_coef, idf_sq) in zip(self.vectorizers, self._urgent_terms, strict=True):
            hits = sorted(v.columns(doc))
            if not hits:
                continue
            dot = sum(map(idf_coef.__getitem__, hits))
            norm = sum(map(idf_sq.__getitem__, hits))
            # one entry per occurrence after a column's first
            repeats = list(compress(hits[1:], map(eq, hits, hits[1:])))
            for j, extra in Counter(repeats).items() if repeats else ():
                count = extra + 1
                tf = 1.0 if v.binary else math.log(count) + 1.0 if v.sublinear else count
                dot += (tf - count) * idf_coef[j]
                norm += (tf * tf - count) * idf_sq[j]
            if v.l2:
                if norm == 0.0:
                    continue
                dot /= math.sqrt(norm)
            z += dot if v.weight is None else dot * v.weight
        # expit(z), without overflow for a large negative z
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


def _vectorizers(features: FeatureUnion) -> list[_Vectorizer]:
    out, offset = [], 0
    weights: dict[str, float] = features.transformer_weights or {}
    for name, vec in features.transformer_list:
        if not isinstance(vec, TfidfVectorizer):
            raise ValueError(f"feature {name!r} is not a TfidfVectorizer")
        if vec.norm not in ("l2", None) or np.dtype(vec.dtype) != np.float64:
            raise ValueError(f"feature {name!r}: norm {vec.norm!r}, dtype {vec.dtype} not compiled")
        vocabulary: dict[str, int] = dict(vec.vocabulary_)
        idf: Any = getattr(vec, "idf_", None) if vec.use_idf else None
        analyze = _analyzer(vec)
        out.append(
            _Vectorizer(
                analyze=analyze,
                columns=_columns(vec, analyze, vocabulary),
                vocabulary=vocabulary,
                idf=None if idf is None else np.asarray(idf, dtype=np.float64),
                sublinear=bool(vec.sublinear_tf),
                binary=bool(vec.binary),
                l2=vec.norm == "l2",
                offset=offset,
                weight=weights.get(name),
            )
        )
        offset += len(vocabulary)
    return out


# TfidfVectorizer's defaults that the analysers below assume; any other setting keeps
# scikit-learn's own analyser.
_PLAIN = {
    "input": "content",
    "encoding": "utf-8",
    "decode_error": "strict",
    "strip_accents": None,
    "lowercase": True,
    "preprocessor": None,
    "tokenizer": None,
    "stop_words": None,
}
_WHITE_SPACES = re.compile(r"\s\s+")


def _plain(vec: TfidfVectorizer) -> bool:
    params = vec.get_params()
    return all(params[k] == want for k, want in _PLAIN.items())


def _analyzer(vec: TfidfVectorizer) -> Callable[[str], list[str]]:
    """The vectorizer's analyser; word 1-2-grams (what `model.fit` uses) in fewer Python
    steps, giving the same features in the same order as `build_analyzer()`
    (tests/triage/test_compiled.py compares them on the whole corpus)."""
    if _plain(vec) and vec.analyzer == "word" and vec.ngram_range == (1, 2):
        pattern = re.compile(vec.token_pattern)
        if pattern.groups > 1:  # scikit-learn refuses such a pattern; let it say so
            return vec.build_analyzer()
        find = pattern.findall

        def words(doc: str) -> list[str]:
            # _word_ngrams: the tokens, then each pair joined by a space
            tokens: list[str] = find(doc.lower())
            return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]

        return words
    return vec.build_analyzer()


# Words whose char_wb columns a process keeps: Vietnamese has a few thousand syllables, so
# nearly every word of a new text is found here; the odd number or name is computed.
WORD_CACHE_SIZE = 50_000


def _columns(
    vec: TfidfVectorizer, analyze: Callable[[str], list[str]], vocabulary: dict[str, int]
) -> Callable[[str], list[int]]:
    get = vocabulary.get
    low, high = vec.ngram_range
    if not (_plain(vec) and vec.analyzer == "char_wb" and 1 <= low <= high):

        def columns(doc: str) -> list[int]:
            return [j for j in map(get, analyze(doc)) if j is not None]

        return columns

    # _char_wb_ngrams works word by word (each padded with one space on each side), so a
    # text's features are its words' features: each word's columns are worked out once.
    per_word: dict[str, list[int]] = {}

    def of_word(word: str) -> list[int]:
        padded = f" {word} "
        length = len(padded)
        found: list[int] = []
        for n in range(low, high + 1):
            if length <= n:  # a padded word no longer than n is one feature, and the last
                j = get(padded)
                if j is not None:
                    found.append(j)
                break
            for k in range(length - n + 1):
                j = get(padded[k : k + n])
                if j is not None:
                    found.append(j)
        if len(per_word) >= WORD_CACHE_SIZE:
            per_word.clear()
        per_word[word] = found
        return found

    def char_columns(doc: str) -> list[int]:
        out: list[int] = []
        for word in _WHITE_SPACES.sub(" ", doc.lower()).split():
            found = per_word.get(word)
            out.extend(of_word(word) if found is None else found)
        return out

    return char_columns
