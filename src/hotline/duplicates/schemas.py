"""JSON shapes of the duplicates API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hotline.cases.schemas import PossibleDuplicate
from hotline.duplicates.clusters import Cluster, ClusterMember
from hotline.duplicates.service import Candidate, short

# The same shape as in the case-creation response.
SuggestionOut = PossibleDuplicate


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    ward_code: str | None = Field(default=None, max_length=8)
    category: str | None = Field(default=None, max_length=40)
    address: str = Field(default="", max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    limit: int = Field(default=5, ge=1, le=20)


class ClusterCaseOut(BaseModel):
    code: str
    status: str
    created_at: datetime
    category: str | None
    description: str
    score: float | None
    reasons: dict[str, Any]

    @classmethod
    def of(cls, m: ClusterMember) -> ClusterCaseOut:
        c: Candidate = m.case
        return cls(
            code=c.code,
            status=c.status,
            created_at=c.created_at,
            category=c.place.category_code,
            description=short(c.description),
            score=m.match.score if m.match else None,
            reasons=m.match.reasons if m.match else {},
        )


class ClusterOut(BaseModel):
    ward_code: str
    size: int
    primary: str
    first_at: datetime
    last_at: datetime
    cases: list[ClusterCaseOut]

    @classmethod
    def of(cls, c: Cluster) -> ClusterOut:
        times = [m.case.created_at for m in c.members]
        return cls(
            ward_code=c.ward_code,
            size=c.size,
            primary=c.primary.code,
            first_at=min(times),
            last_at=max(times),
            cases=[ClusterCaseOut.of(m) for m in c.members],
        )


class ClustersOut(BaseModel):
    items: list[ClusterOut]
    cases_read: int
    truncated: bool


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary: str = Field(min_length=1, max_length=20)
    duplicates: list[str] = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=4000)
    # The primary's version the caller saw (GET /cases/{code}): 409 if it changed since.
    expected_version: int | None = Field(default=None, ge=0)


class MergeOut(BaseModel):
    primary: str
    merged: list[str]
    repointed: list[str]
    notifications: int
