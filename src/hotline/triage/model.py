"""The statistical half of triage: TF-IDF features, a calibrated linear SVM, a logistic regression.

Word uni/bigrams over normalised text carry the meaning ("het gao", "tiem mui 2"); character
n-grams within words absorb typos and spellings the abbreviation table does not know
("khóo thở", "xet nghiêm"). The category is a linear SVM (the best macro-F1 on the held-out
split among the linear models tried, and the fastest to train) wrapped in sigmoid calibration
so its "confidence" is a probability; urgency is a logistic regression. Linear weights name the
phrases behind a choice.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from hotline.triage.compiled import CompiledModel, Row
from hotline.triage.normalise import normalise

SEED = 1022
# Urgency favours recall: a message is flagged from this probability on (the lexicon flags
# independently of it). Chosen on the training split, never on the held-out one.
URGENT_THRESHOLD = 0.35
PHRASES_SHOWN = 3
MIN_PER_CATEGORY = 3


@dataclass
class Prediction:
    ranked: list[tuple[str, float]]
    urgent_probability: float
    category_phrases: list[str]
    urgent_phrases: list[str]


@dataclass
class TriageModel:
    features: FeatureUnion
    category_clf: CalibratedClassifierCV
    urgent_clf: LogisticRegression | None
    urgent_threshold: float = URGENT_THRESHOLD

    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.category_clf.classes_]

    def predict(self, text: str, *, allowed: set[str] | None = None) -> Prediction:
        """Categories ranked by probability (only `allowed` ones if given), urgency, phrases."""
        fast = self.compiled()
        row = fast.row(normalise(text))
        probs = fast.category_proba(row)
        ranked = sorted(
            ((c, float(p)) for c, p in zip(fast.classes, probs.tolist(), strict=True)),
            key=lambda cp: -cp[1],
        )
        if allowed:
            kept = [(c, p) for c, p in ranked if c in allowed]
            total = sum(p for _, p in kept)
            if kept and total > 0:
                ranked = [(c, p / total) for c, p in kept]
        urgent_p = fast.urgent_proba(row)
        urgent_phrases: list[str] = []
        if urgent_p is not None and self.urgent_clf is not None:
            urgent_phrases = self._phrases(
                row, self.urgent_clf.coef_, list(self.urgent_clf.classes_), True
            )
        category_phrases = self._phrases(row, fast.phrase_weights, fast.classes, ranked[0][0])
        return Prediction(ranked, urgent_p or 0.0, category_phrases, urgent_phrases)

    def _phrases(self, row: Row, weights: Any, classes: list[Any], label: Any) -> list[str]:
        """The word n-grams present in the text that pushed hardest towards `label`."""
        if weights.shape[0] == 1:  # binary: one row of weights, for classes[1]
            coef = weights[0] * (1 if label == classes[1] else -1)
        else:
            coef = weights[classes.index(label)]
        names = self._word_names()
        cols, vals = row.cols[: row.n_words], row.vals[: row.n_words]
        w = coef[cols]
        positive = w > 0
        scored = [
            (v * c, str(names[j]))
            for j, v, c in zip(
                cols[positive].tolist(),
                vals[positive].tolist(),
                w[positive].tolist(),
                strict=True,
            )
        ]
        scored.sort(reverse=True)
        top = [name for _, name in scored[: PHRASES_SHOWN * 3]]
        # a word inside a longer phrase of the list adds nothing ("kho tho" covers "tho")
        inside = {w for o in top for w in o.split() if w != o}
        kept = [n for n in top if n not in inside]
        return kept[:PHRASES_SHOWN]

    def compiled(self) -> CompiledModel:
        """The fitted objects as plain arrays (built on first use, cached, never stored)."""
        fast = self.__dict__.get("_compiled")
        if fast is None:
            fast = CompiledModel(self.features, self.category_clf, self.urgent_clf)
            self.__dict__["_compiled"] = fast
        return fast

    def _word_names(self) -> Any:
        names = self.__dict__.get("_names")
        if names is None:
            names = self.features.transformer_list[0][1].get_feature_names_out()
            self.__dict__["_names"] = names
        return names

    def scores(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        """Top category and urgency probability for many texts (for evaluation)."""
        fast = self.compiled()
        categories, urgent = [], []
        for text in texts:
            row = fast.row(normalise(text))
            # CalibratedClassifierCV.predict: the first class of highest probability
            categories.append(fast.classes[int(np.argmax(fast.category_proba(row)))])
            urgent.append(fast.urgent_proba(row) or 0.0)
        return categories, urgent

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        # caches, rebuilt on first use: stored blobs hold only the fitted objects
        self.__dict__.pop("_names", None)
        self.__dict__.pop("_compiled", None)
        joblib.dump(self, buf, compress=3)
        return buf.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> TriageModel:
        """Unpickle a model: runs whatever the bytes say, so only for bytes this process
        made or whose signature `from_signed_bytes` has checked."""
        model = joblib.load(io.BytesIO(blob))
        if not isinstance(model, TriageModel):
            raise TypeError("not a triage model")
        return model

    def to_signed_bytes(self, key: bytes) -> bytes:
        """The stored form: a header, HMAC-SHA256 of the pickle under the site's key, the
        pickle. Whoever can write the table but lacks the key cannot make one that loads."""
        payload = self.to_bytes()
        return SIGNED_HEADER + hmac.new(key, payload, hashlib.sha256).digest() + payload

    @staticmethod
    def from_signed_bytes(blob: bytes, key: bytes) -> TriageModel:
        """Load a stored model only if its signature verifies (UntrustedModel otherwise):
        the pickle is not even opened before."""
        if not blob.startswith(SIGNED_HEADER):
            raise UntrustedModel("unsigned model blob")
        mac_end = len(SIGNED_HEADER) + MAC_SIZE
        mac, payload = blob[len(SIGNED_HEADER) : mac_end], blob[mac_end:]
        expected = hmac.new(key, payload, hashlib.sha256).digest()
        if len(mac) != MAC_SIZE or not hmac.compare_digest(mac, expected):
            raise UntrustedModel("model blob signature does not verify")
        return TriageModel.from_bytes(payload)


class UntrustedModel(Exception):
    """A stored model blob without a valid signature of this site's key."""


SIGNED_HEADER = b"hotline-triage-hmac-sha256\n"
MAC_SIZE = hashlib.sha256().digest_size


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=1,
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2
                ),
            ),
        ]
    )


def fit(texts: Sequence[str], categories: Sequence[str], urgent: Sequence[bool]) -> TriageModel:
    """Train on raw texts. Categories with fewer than MIN_PER_CATEGORY examples are left out
    (calibration needs a few of each); a corpus without urgent examples gets no urgency model."""
    counts: dict[str, int] = {}
    for c in categories:
        counts[c] = counts.get(c, 0) + 1
    keep = [i for i, c in enumerate(categories) if counts[c] >= MIN_PER_CATEGORY]
    texts = [texts[i] for i in keep]
    categories = [categories[i] for i in keep]
    urgent = [urgent[i] for i in keep]
    features = _features()
    x = features.fit_transform([normalise(t) for t in texts])
    category_clf = CalibratedClassifierCV(
        LinearSVC(C=0.5, class_weight="balanced", random_state=SEED),
        cv=MIN_PER_CATEGORY,
        method="sigmoid",
    )
    category_clf.fit(x, list(categories))
    y_urgent = np.array([bool(u) for u in urgent])
    urgent_clf = None
    if 0 < y_urgent.sum() < len(y_urgent):
        urgent_clf = LogisticRegression(
            C=10.0, solver="liblinear", class_weight="balanced", random_state=SEED
        )
        urgent_clf.fit(x, y_urgent)
    return TriageModel(features=features, category_clf=category_clf, urgent_clf=urgent_clf)
