"""Who may read and write which article. Invisible articles are NotFound, never Forbidden."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.errors import NotAllowed, NotFound
from hotline.knowledge.models import Article, ArticleStatus
from hotline.knowledge.queries import published_and_valid, today

EDITORS = frozenset({Role.ADMIN, Role.SUPERVISOR})


def can_edit(actor: Actor) -> bool:
    """Supervisors and administrators write drafts, publish and archive."""
    return actor.role in EDITORS


def require_editor(actor: Actor) -> None:
    if not can_edit(actor):
        raise NotAllowed("Chỉ trưởng ca và quản trị viên được soạn, xuất bản bài hỏi đáp")


def readable_statuses(actor: Actor) -> set[ArticleStatus]:
    """Every signed-in role reads published articles; only editors see drafts and archive."""
    return set(ArticleStatus) if can_edit(actor) else {ArticleStatus.PUBLISHED}


async def get_article_for(session: AsyncSession, actor: Actor, article_id: int) -> Article:
    article = await session.get(Article, article_id)
    if article is None or article.status not in readable_statuses(actor):
        raise NotFound(f"Không có bài hỏi đáp số {article_id}", field="id")
    return article


async def get_public_article(session: AsyncSession, slug: str) -> Article:
    """Only published articles valid today (site timezone) exist for the public."""
    article = await session.scalar(
        select(Article).where(Article.slug == slug, published_and_valid(today(session)))
    )
    if article is None:
        raise NotFound(f"Không có bài hỏi đáp {slug}", field="slug")
    return article
