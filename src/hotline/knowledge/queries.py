"""Reading articles: ranked full-text search on both engines, filters, pages, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, column, func, literal_column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import dialect_name, utcnow
from hotline.knowledge.matching import query_terms
from hotline.knowledge.models import Article, ArticleRevision, ArticleStatus
from hotline.site import site_of

Mode = Literal["all", "any"]
# Not mapped on Article: PostgreSQL-only stored column / SQLite-only FTS5 table, both
# created by migration 20261123_0006.
SEARCH_VECTOR: ColumnElement[Any] = literal_column("article.search_vector")
FTS = table("article_fts", column("rowid"))
FTS_NAME: ColumnElement[Any] = literal_column("article_fts")
# bm25 column weights on SQLite (question, body); PostgreSQL's ts_rank weighs A (question)
# 1.0 and B (body) 0.4 by default: both make a word in the question count more.
FTS_WEIGHTS = (4.0, 1.0)


@dataclass
class ArticleFilter:
    q: str | None = None
    category: str | None = None
    # None: published only. Drafts and archived articles only when a staff filter asks.
    statuses: list[ArticleStatus] | None = None
    # Only articles valid today (site timezone) unless asked otherwise.
    valid_only: bool = True


@dataclass
class Ranked:
    article: Article
    rank: float | None


def today(session: AsyncSession) -> date:
    return site_of(session).local(utcnow()).date()


def valid_on(day: date) -> Any:
    """Articles whose validity window contains `day` (open ends are unbounded)."""
    return and_(
        or_(Article.valid_from.is_(None), Article.valid_from <= day),
        or_(Article.valid_until.is_(None), Article.valid_until >= day),
    )


def published_and_valid(day: date) -> Any:
    return and_(Article.status == ArticleStatus.PUBLISHED, valid_on(day))


def _conditions(session: AsyncSession, filters: ArticleFilter) -> list[Any]:
    where: list[Any] = [Article.status.in_(filters.statuses or [ArticleStatus.PUBLISHED])]
    if filters.category:
        where.append(Article.category_code == filters.category)
    if filters.valid_only:
        where.append(valid_on(today(session)))
    return where


def _match_expression(dialect: str, terms: list[str], mode: Mode, prefix_last: bool) -> str:
    last = len(terms) - 1
    if dialect == "postgresql":
        parts = [f"{t}:*" if prefix_last and i == last else t for i, t in enumerate(terms)]
        return (" & " if mode == "all" else " | ").join(parts)
    parts = [f'"{t}"*' if prefix_last and i == last else f'"{t}"' for i, t in enumerate(terms)]
    return (" AND " if mode == "all" else " OR ").join(parts)


async def ranked(
    session: AsyncSession,
    *,
    terms: list[str],
    where: list[Any],
    mode: Mode = "all",
    prefix_last: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[Ranked]:
    """Articles matching the folded terms, best first (higher rank is better on both engines).

    `terms` must come from `matching.query_terms` (ASCII letters and digits only), which is
    what makes them safe to place in a tsquery or an FTS5 query string.
    """
    if not terms:
        return []
    dialect = dialect_name(session)
    expression = _match_expression(dialect, terms, mode, prefix_last)
    if dialect == "postgresql":
        tsquery = func.to_tsquery(literal_column("'simple'"), expression)
        rank: Any = func.ts_rank(SEARCH_VECTOR, tsquery)
        stmt = select(Article, rank.label("rank")).where(SEARCH_VECTOR.op("@@")(tsquery))
    else:
        # bm25() is lower for better matches; negate so both engines sort descending.
        rank = -func.bm25(FTS_NAME, *FTS_WEIGHTS)
        stmt = (
            select(Article, rank.label("rank"))
            .join(FTS, FTS.c.rowid == Article.id)
            .where(FTS_NAME.op("MATCH")(expression))
        )
    stmt = stmt.where(*where).order_by(rank.desc(), Article.id).limit(limit).offset(offset)
    rows = (await session.execute(stmt)).all()
    return [Ranked(article=a, rank=float(r)) for a, r in rows]


async def search_articles(
    session: AsyncSession, *, filters: ArticleFilter, limit: int = 20, offset: int = 0
) -> tuple[list[Ranked], bool]:
    """A page of articles and whether more follow.

    With `q`: every word must match, in any order, the last one as a prefix (typing as you
    go); when that finds nothing, articles matching any of the words, ranked. Without `q`:
    newest first.
    """
    where = _conditions(session, filters)
    terms = query_terms(filters.q or "")
    if filters.q and not terms:
        return [], False
    if terms:
        found = await ranked(
            session, terms=terms, where=where, mode="all", limit=limit + 1, offset=offset
        )
        if not found and offset == 0 and len(terms) > 1:
            found = await ranked(session, terms=terms, where=where, mode="any", limit=limit + 1)
        return found[:limit], len(found) > limit
    stmt = (
        select(Article)
        .where(*where)
        .order_by(Article.updated_at.desc(), Article.id.desc())
        .limit(limit + 1)
        .offset(offset)
    )
    articles = list((await session.scalars(stmt)).all())
    return [Ranked(a, None) for a in articles[:limit]], len(articles) > limit


async def public_articles(
    session: AsyncSession, *, q: str | None, category: str | None = None, limit: int = 200
) -> list[Article]:
    """Published articles valid today, for the citizen FAQ: ranked when searched."""
    filters = ArticleFilter(q=q, category=category)
    if q:
        hits, _ = await search_articles(session, filters=filters, limit=limit)
        return [h.article for h in hits]
    stmt = (
        select(Article)
        .where(*_conditions(session, filters))
        .order_by(Article.category_code, Article.question)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def revisions_of(session: AsyncSession, article_id: int) -> list[ArticleRevision]:
    stmt = (
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article_id)
        .order_by(ArticleRevision.number)
    )
    return list((await session.scalars(stmt)).all())


async def revision(session: AsyncSession, article_id: int, number: int) -> ArticleRevision | None:
    return await session.scalar(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article_id, ArticleRevision.number == number
        )
    )
