"""JSON shapes of `POST /api/v1/suggestions`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hotline.duplicates.schemas import SuggestionOut as DuplicateOut
from hotline.knowledge.schemas import SuggestionOut as ArticleOut
from hotline.triage.schemas import TriageOut


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    category: str | None = Field(default=None, max_length=40)
    ward_code: str | None = Field(default=None, max_length=8)
    address: str = Field(default="", max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    limit: int = Field(default=5, ge=1, le=20)


class SuggestionsOut(BaseModel):
    triage: TriageOut
    duplicates: list[DuplicateOut]
    articles: list[ArticleOut]
