"""Triage request and response shapes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hotline.triage.models import TriageModel as TriageModelRow
from hotline.triage.service import MAX_TEXT, Suggestion


class TriageIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Reason(BaseModel):
    kind: str = Field(description="rule (urgent lexicon), model (urgency model) or category")
    code: str
    label: str
    phrase: str = Field(description="the matched words, normalised (no diacritics)")
    quote: str | None = Field(
        None,
        description="the same words as written in the text (a model reason: those no rule "
        "reason already quotes); null when they cannot be mapped back exactly",
    )


class TriageOut(BaseModel):
    category: str
    category_name: str | None = None
    confidence: float
    urgent: bool
    reasons: list[Reason]
    alternatives: list[dict[str, Any]] = []
    model_version: int | None = Field(
        None, description="null: no stored model yet, the shipped corpus's model was used"
    )

    @classmethod
    def of(cls, s: Suggestion, gettext: Callable[[str], str] = str) -> TriageOut:
        """The suggestion with its reasons' labels through `gettext` (the caller's
        language; as they are, in Vietnamese, without one)."""
        return cls(
            category=s.category,
            category_name=s.category_name,
            confidence=s.confidence,
            urgent=s.urgent,
            reasons=[
                Reason.model_validate({**r, "label": gettext(r["label"] or "")}) for r in s.reasons
            ],
            alternatives=s.alternatives,
            model_version=s.model_version,
        )


class ModelOut(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    trained_on: dict[str, Any]
    metrics: dict[str, Any]
    active: bool

    @classmethod
    def of(cls, row: TriageModelRow) -> ModelOut:
        return cls(
            version=row.version,
            created_at=row.created_at,
            created_by=row.created_by,
            trained_on=row.trained_on,
            metrics=row.metrics,
            active=row.active,
        )
