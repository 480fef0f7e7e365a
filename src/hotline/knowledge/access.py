"""Who may read and write which article. Invisible articles are NotFound, never Forbidden."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.errors import InvalidInput, NotAllowed, NotFound
from hotline.knowledge.models import Article, ArticleStatus
from hotline.knowledge.queries import published_and_valid, today
from hotline.messages import msg


def can_edit(actor: Actor) -> bool:
    """Supervisors and administrators write drafts, publish and archive."""
    return allows(actor, Permission.EDIT_KNOWLEDGE)


def require_editor(actor: Actor) -> None:
    require(actor, Permission.EDIT_KNOWLEDGE)


def readable_statuses(actor: Actor) -> set[ArticleStatus]:
    """Every signed-in role reads published articles; only editors see drafts and archive."""
    return set(ArticleStatus) if can_edit(actor) else {ArticleStatus.PUBLISHED}


def wanted_statuses(actor: Actor, wanted: list[str] | None) -> list[ArticleStatus] | None:
    """The statuses a list asks for (None: the default), refused if the actor may not read
    them all."""
    if not wanted:
        return None
    try:
        statuses = [ArticleStatus(s) for s in wanted]
    except ValueError:
        raise InvalidInput("Trạng thái không hợp lệ", field="status") from None
    if not set(statuses) <= readable_statuses(actor):
        raise NotAllowed(
            "Chỉ trưởng ca và quản trị viên xem được bài nháp, bài lưu trữ", field="status"
        )
    return statuses


async def get_article_for(session: AsyncSession, actor: Actor, article_id: int) -> Article:
    article = await session.get(Article, article_id)
    if article is None or article.status not in readable_statuses(actor):
        raise NotFound(
            msg("Không có bài hỏi đáp số {article_id}", article_id=article_id), field="id"
        )
    return article


async def get_public_article(session: AsyncSession, slug: str) -> Article:
    """Only published articles valid today (site timezone) exist for the public."""
    article = await session.scalar(
        select(Article).where(Article.slug == slug, published_and_valid(today(session)))
    )
    if article is None:
        raise NotFound(msg("Không có bài hỏi đáp {slug}", slug=slug), field="slug")
    return article
