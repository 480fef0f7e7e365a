"""JSON shapes of the knowledge-base API (the public FAQ included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from hotline.knowledge.models import Article, ArticleRevision
from hotline.knowledge.service import Content
from hotline.knowledge.suggest import Suggestion
from hotline.types import Int32


class ArticleIn(BaseModel):
    slug: str | None = Field(default=None, max_length=120)
    question: str = Field(max_length=2000)
    answer: str = Field(max_length=20_000)
    category: str | None = None
    source_document: str = Field(default="", max_length=1000)
    source_url: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_until: date | None = None
    note: str = Field(default="", max_length=1000)

    def content(self) -> Content:
        return Content(
            question=self.question,
            answer=self.answer,
            category_code=self.category,
            source_document=self.source_document,
            source_url=self.source_url,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


class ArticlePatch(BaseModel):
    """Only the fields sent change; `version` (optional) guards against lost updates."""

    question: str | None = Field(default=None, max_length=2000)
    answer: str | None = Field(default=None, max_length=20_000)
    category: str | None = None
    source_document: str | None = Field(default=None, max_length=1000)
    source_url: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_until: date | None = None
    note: str = Field(default="", max_length=1000)
    version: Int32 | None = None

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True, exclude={"note", "version"})
        if "category" in sent:
            sent["category_code"] = sent.pop("category")
        for key in ("question", "answer", "source_document"):
            if key in sent and sent[key] is None:
                sent[key] = ""  # explicit null: validated as empty, naming the field
        return sent


class NoteIn(BaseModel):
    """Publish/archive: `version` (optional) is the one the editor reviewed."""

    note: str = Field(default="", max_length=1000)
    version: Int32 | None = None


class ContentOut(BaseModel):
    question: str
    answer: str
    category: str | None
    source_document: str
    source_url: str | None
    valid_from: date | None
    valid_until: date | None

    @classmethod
    def of(cls, c: Content | Article | ArticleRevision) -> ContentOut:
        return cls(
            question=c.question,
            answer=c.answer,
            category=c.category_code,
            source_document=c.source_document,
            source_url=c.source_url,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
        )


class ArticleOut(ContentOut):
    id: int
    slug: str
    status: str
    version: int
    published_version: int | None
    use_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    rank: float | None = None
    # A published article's pending edit, shown to editors only.
    draft: ContentOut | None = None

    @classmethod
    def of_article(
        cls, a: Article, *, rank: float | None = None, draft: Content | None = None
    ) -> ArticleOut:
        return cls(
            **ContentOut.of(a).model_dump(),
            id=a.id,
            slug=a.slug,
            status=a.status.value,
            version=a.version,
            published_version=a.published_version,
            use_count=a.use_count,
            created_at=a.created_at,
            updated_at=a.updated_at,
            published_at=a.published_at,
            rank=rank,
            draft=ContentOut.of(draft) if draft is not None else None,
        )


class ArticlePage(BaseModel):
    items: list[ArticleOut]
    page: int
    limit: int
    has_more: bool


class RevisionOut(ContentOut):
    number: int
    action: str
    note: str
    actor_id: int | None
    at: datetime

    @classmethod
    def of_revision(cls, r: ArticleRevision) -> RevisionOut:
        return cls(
            **ContentOut.of(r).model_dump(),
            number=r.number,
            action=r.action.value,
            note=r.note,
            actor_id=r.actor_id,
            at=r.at,
        )


class SuggestIn(BaseModel):
    text: str = Field(max_length=5000)
    category: str | None = None
    limit: int = Field(default=5, ge=1, le=20)


class SuggestionOut(BaseModel):
    id: int
    slug: str
    question: str
    answer: str
    category: str | None
    source_document: str
    score: float
    matched: list[str]
    # The answer as the operator inserts it into a reply, source named.
    insert_text: str

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionOut:
        a = s.article
        insert = a.answer + (f"\n\n(Nguồn: {a.source_document})" if a.source_document else "")
        return cls(
            id=a.id,
            slug=a.slug,
            question=a.question,
            answer=a.answer,
            category=a.category_code,
            source_document=a.source_document,
            score=s.score,
            matched=list(s.matched),
            insert_text=insert,
        )


class UsedOut(BaseModel):
    event_id: int
    kind: str
    article_id: int
    at: datetime


class PublicArticleOut(BaseModel):
    slug: str
    question: str
    answer: str
    category: str | None
    category_name: str | None
    source_document: str
    source_url: str | None
    valid_from: date | None
    valid_until: date | None

    @classmethod
    def of(cls, a: Article, names: dict[str, str]) -> PublicArticleOut:
        return cls(
            slug=a.slug,
            question=a.question,
            answer=a.answer,
            category=a.category_code,
            category_name=names.get(a.category_code or ""),
            source_document=a.source_document,
            source_url=a.source_url,
            valid_from=a.valid_from,
            valid_until=a.valid_until,
        )


class PublicFaq(BaseModel):
    items: list[PublicArticleOut]
