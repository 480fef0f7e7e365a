"""Articles for a citizen's text: suggestions for operators, the optional auto-answer, and
recording which article an operator used in a reply."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.cases import timeline
from hotline.cases.models import Case, CaseEvent
from hotline.errors import InvalidInput
from hotline.knowledge.matching import query_terms, score
from hotline.knowledge.models import Article, ArticleStatus
from hotline.knowledge.queries import published_and_valid, ranked, today
from hotline.messages import msg
from hotline.site import site_of

MAX_TEXT = 5000
# Candidates the database ranks before they are scored here: enough that the best-scored
# article is among them for long messages, few enough to score in well under a millisecond.
CANDIDATES = 40
# Same category as the case: a small nudge in the ordering, never a filter (a case filed
# under the wrong category still gets the right article).
CATEGORY_BONUS = 0.05
MIN_PREFIX = 3
HUMAN_OFFER = "Nếu cần gặp tổng đài viên, vui lòng nhắn 'gặp người'."


@dataclass(frozen=True)
class Suggestion:
    article: Article
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class AutoAnswer:
    article: Article
    score: float
    reply: str


def _checked(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("Nội dung không được để trống", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            msg("Nội dung dài quá {max_text} ký tự", max_text=MAX_TEXT), field="text"
        )
    return text


async def suggest_for_description(
    session: AsyncSession, *, description: str, category_code: str | None, limit: int = 5
) -> list[Suggestion]:
    """`suggest_articles` for a case's description, which may be longer than a text given
    to suggest (20,000 characters against MAX_TEXT): its beginning says what it is about."""
    return await suggest_articles(
        session, text=description[:MAX_TEXT], category_code=category_code, limit=limit
    )


async def suggest_articles(
    session: AsyncSession, *, text: str, category_code: str | None = None, limit: int = 5
) -> list[Suggestion]:
    """Published, currently valid articles that answer a free text, best first.

    Any word may match (citizens write long messages, with typos and without diacritics),
    so an article is found by the words it shares; the score says how well it fits.
    """
    terms = query_terms(_checked(text))
    # A word being typed (the new-case form) matches as a prefix once it says something; a
    # one- or two-letter prefix would match most articles in an any-word search.
    prefix = bool(terms) and len(terms[-1]) >= MIN_PREFIX
    hits = await ranked(
        session,
        terms=terms,
        where=[published_and_valid(today(session))],
        mode="any",
        prefix_last=prefix,
        limit=CANDIDATES,
    )
    scored = []
    for hit in hits:
        a = hit.article
        m = score(terms, question=a.search_question, body=a.search_body, prefix_last=prefix)
        if m.score > 0:
            bonus = CATEGORY_BONUS if category_code and a.category_code == category_code else 0
            scored.append((m.score + bonus, hit.rank or 0.0, Suggestion(a, m.score, m.matched)))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    return [s for _, _, s in scored[: max(1, min(limit, 20))]]


async def auto_answer_for(session: AsyncSession, *, text: str) -> AutoAnswer | None:
    """The reply a chat channel may send on its own, or None.

    None when HOTLINE_KB_AUTO_ANSWER is off (the default) or the best article scores below
    HOTLINE_KB_AUTO_ANSWER_THRESHOLD. The reply always offers a human.
    """
    site = site_of(session)
    if not site.kb_auto_answer:
        return None
    best = await suggest_articles(session, text=text, limit=1)
    if not best or best[0].score < site.kb_auto_answer_threshold:
        return None
    top = best[0]
    return AutoAnswer(top.article, top.score, f"{top.article.answer}\n\n{HUMAN_OFFER}")


async def record_article_used(
    session: AsyncSession, *, actor: Actor, case: Case, article: Article
) -> CaseEvent:
    """An operator put this article's answer in a reply: log it on the case timeline
    (case.article_used) and count the use, so supervisors see which articles help."""
    require(actor, Permission.HANDLE_CASES, "Chỉ nhân viên tổng đài trả lời yêu cầu")
    if article.status != ArticleStatus.PUBLISHED:
        raise InvalidInput("Chỉ dùng được bài đã xuất bản", field="article_id")
    await session.execute(
        update(Article)
        .where(Article.id == article.id)
        .values(use_count=Article.use_count + 1)
        .execution_options(synchronize_session=False)
    )
    return await timeline.log(
        session,
        case,
        "article_used",
        actor,
        data={
            "article_id": article.id,
            "slug": article.slug,
            "version": article.published_version,
            "question": article.question,
        },
    )
