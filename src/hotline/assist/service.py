"""Suggestions for a draft request: one call over the triage, duplicates and knowledge
services. The rules of its own: only hotline staff ask; which category steers duplicates and
articles (the operator's, else triage's); how much of a long text is read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.duplicates.service import Suggestion as Duplicate
from hotline.duplicates.service import suggest_duplicates
from hotline.knowledge.suggest import MAX_TEXT as ARTICLE_TEXT
from hotline.knowledge.suggest import Suggestion as ArticleSuggestion
from hotline.knowledge.suggest import suggest_articles
from hotline.triage.service import MAX_TEXT as TRIAGE_TEXT
from hotline.triage.service import Suggestion as Triage
from hotline.triage.service import classify


@dataclass
class Suggestions:
    triage: Triage
    duplicates: list[Duplicate]
    articles: list[ArticleSuggestion]


async def suggest_for_draft(
    session: AsyncSession,
    *,
    actor: Actor,
    text: str,
    category: str | None = None,
    limit: int = 5,
    language: str = "vi",
    **place: Any,
) -> Suggestions:
    """Category and urgency, likely duplicates and articles for a draft; writes nothing.

    `place`: ward_code, address, lat, long, as duplicates take them; `language` names the
    suggested category (triage.classify).
    """
    require(actor, Permission.USE_SUGGESTIONS)
    # An incoming e-mail may run past what triage and article matching read; its start says
    # what it is about (a quoted thread follows), so the rest is left out, not refused.
    head = text[: min(TRIAGE_TEXT, ARTICLE_TEXT)]
    triage = await classify(session, actor=actor, text=head, language=language)
    steer = category or triage.category
    duplicates = await suggest_duplicates(
        session, text=text, category_code=steer, limit=limit, actor=actor, **place
    )
    articles = await suggest_articles(session, text=head, category_code=steer, limit=limit)
    return Suggestions(triage, duplicates, articles)
