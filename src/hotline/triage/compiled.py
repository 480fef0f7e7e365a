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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
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
        if urgent_clf is not None:
            if urgent_clf.coef_.shape[0] != 1:
                raise ValueError("urgency model must be binary")
            self.urgent = (
                np.ascontiguousarray(urgent_clf.coef_[0], dtype=np.float64),
                float(urgent_clf.intercept_[0]),
            )

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
            voc = v.vocabulary
            # CountVectorizer._count_vocab: count the analyser's features in the vocabulary;
            # the matrix then has its indices sorted.
            counts = Counter(v.analyze(doc))
            known = counts.keys() & voc.keys()  # any order: sorted by column just below
            if i == 0:
                n_words = len(known)
            if not known:
                continue
            idx = np.fromiter(map(voc.__getitem__, known), dtype=np.intp, count=len(known))
            vals = np.fromiter(map(counts.__getitem__, known), dtype=np.float64, count=len(known))
            order = idx.argsort()
            idx, vals = idx[order], vals[order]
            if v.binary:
                vals[:] = 1.0
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
        out.append(
            _Vectorizer(
                analyze=vec.build_analyzer(),
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
