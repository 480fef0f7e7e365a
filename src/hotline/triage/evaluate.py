"""Quality of a model on labelled examples: macro-F1 per category, recall of urgent ones and
false alarms on the others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import f1_score, precision_recall_fscore_support

from hotline.triage import lexicon
from hotline.triage.corpus import Example
from hotline.triage.model import TriageModel


def evaluate(model: TriageModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Metrics as stored with each model version (see docs/triage.md)."""
    if not examples:
        return {}
    truth = [e.category for e in examples]
    guessed, urgent_p = model.scores([e.text for e in examples])
    labels = sorted(set(truth))
    p, r, f, s = precision_recall_fscore_support(truth, guessed, labels=labels, zero_division=0)
    rules = [bool(lexicon.scan(e.text)) for e in examples]
    by_model = [p >= model.urgent_threshold for p in urgent_p]
    flagged = [a or b for a, b in zip(rules, by_model, strict=True)]
    urgent = [e.urgent for e in examples]
    return {
        "n": len(examples),
        "accuracy": round(sum(t == g for t, g in zip(truth, guessed, strict=True)) / len(truth), 4),
        "macro_f1": round(float(f1_score(truth, guessed, labels=labels, average="macro")), 4),
        "per_category": {
            label: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, label in enumerate(labels)
        },
        "urgent": {
            "support": sum(urgent),
            "recall": _recall(urgent, flagged),
            "precision": _precision(urgent, flagged),
            "recall_rules_only": _recall(urgent, rules),
            "recall_model_only": _recall(urgent, by_model),
            "flagged": sum(flagged),
            # Messages not urgent that were flagged, and their share of all such messages.
            "false_alarms": sum(g and not t for t, g in zip(urgent, flagged, strict=True)),
            "false_alarm_rate": _false_alarm_rate(urgent, flagged),
            "false_alarm_rate_rules_only": _false_alarm_rate(urgent, rules),
        },
    }


def _recall(truth: list[bool], flagged: list[bool]) -> float:
    positives = sum(truth)
    hit = sum(t and g for t, g in zip(truth, flagged, strict=True))
    return round(hit / positives, 4) if positives else 1.0


def _precision(truth: list[bool], flagged: list[bool]) -> float:
    n = sum(flagged)
    hit = sum(t and g for t, g in zip(truth, flagged, strict=True))
    return round(hit / n, 4) if n else 1.0


def _false_alarm_rate(truth: list[bool], flagged: list[bool]) -> float:
    negatives = sum(not t for t in truth)
    alarms = sum(g and not t for t, g in zip(truth, flagged, strict=True))
    return round(alarms / negatives, 4) if negatives else 0.0
