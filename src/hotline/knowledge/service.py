"""Article verbs: create, edit (a new revision), publish, archive.

Editing a published article does not change what readers see: the edit is stored as a
draft revision (`draft_version`) and the published text stays live until a supervisor
publishes the draft (as Zammad's and Frappe Helpdesk's knowledge bases do). Every save,
publication and archiving appends a revision with the full content.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.directory.service import get_category
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.events import DomainEvent, record_event
from hotline.knowledge import queries
from hotline.knowledge.access import can_edit, require_editor
from hotline.knowledge.matching import words
from hotline.knowledge.models import Article, ArticleRevision, ArticleStatus, RevisionAction
from hotline.knowledge.queries import revision
from hotline.messages import msg

MAX_QUESTION = 500
MAX_ANSWER = 10_000
MAX_SOURCE = 300
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# (status, verb) -> new status. A published article being edited stays published (the edit
# is a pending draft); an archived one comes back as a draft.
TRANSITIONS: dict[tuple[ArticleStatus, str], ArticleStatus] = {
    (ArticleStatus.DRAFT, "edit"): ArticleStatus.DRAFT,
    (ArticleStatus.DRAFT, "publish"): ArticleStatus.PUBLISHED,
    (ArticleStatus.DRAFT, "archive"): ArticleStatus.ARCHIVED,
    (ArticleStatus.PUBLISHED, "edit"): ArticleStatus.PUBLISHED,
    (ArticleStatus.PUBLISHED, "publish"): ArticleStatus.PUBLISHED,
    (ArticleStatus.PUBLISHED, "archive"): ArticleStatus.ARCHIVED,
    (ArticleStatus.ARCHIVED, "edit"): ArticleStatus.DRAFT,
}


@dataclass(frozen=True)
class Content:
    """Everything a revision stores about an article's text."""

    question: str
    answer: str
    category_code: str | None = None
    source_document: str = ""
    source_url: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


CONTENT_FIELDS = tuple(f.name for f in fields(Content))


def content_of(row: Article | ArticleRevision) -> Content:
    return Content(**{name: getattr(row, name) for name in CONTENT_FIELDS})


def search_fields(content: Content) -> dict[str, str]:
    """The folded text the search indexes read: the question, then everything else."""
    body = f"{content.answer} {content.source_document}"
    return {
        "search_question": " ".join(words(content.question)),
        "search_body": " ".join(words(body)),
    }


def transition(status: ArticleStatus, verb: str) -> ArticleStatus:
    try:
        return TRANSITIONS[(status, verb)]
    except KeyError:
        raise InvalidTransition(
            msg(
                "Không thể {verb} bài ở trạng thái {status}",
                verb=VERBS_VI[verb],
                status=STATUS_VI[status],
            ),
            field="status",
        ) from None


VERBS_VI = {"edit": msg("sửa"), "publish": msg("xuất bản"), "archive": msg("lưu trữ")}
STATUS_VI = {
    ArticleStatus.DRAFT: msg("nháp"),
    ArticleStatus.PUBLISHED: msg("đã xuất bản"),
    ArticleStatus.ARCHIVED: msg("đã lưu trữ"),
}


async def validate(session: AsyncSession, content: Content) -> Content:
    """Trimmed content, or InvalidInput naming the first bad field."""
    question, answer = content.question.strip(), content.answer.strip()
    if not question:
        raise InvalidInput("Câu hỏi không được để trống", field="question")
    if len(question) > MAX_QUESTION:
        raise InvalidInput(
            msg("Câu hỏi dài quá {max_question} ký tự", max_question=MAX_QUESTION), field="question"
        )
    if not answer:
        raise InvalidInput("Câu trả lời không được để trống", field="answer")
    if len(answer) > MAX_ANSWER:
        raise InvalidInput(
            msg("Câu trả lời dài quá {max_answer} ký tự", max_answer=MAX_ANSWER), field="answer"
        )
    if content.category_code:
        await get_category(session, content.category_code, field="category")
    source = content.source_document.strip()
    if len(source) > MAX_SOURCE:
        raise InvalidInput(
            msg("Văn bản nguồn dài quá {max_source} ký tự", max_source=MAX_SOURCE),
            field="source_document",
        )
    url = (content.source_url or "").strip() or None
    if url and (not re.match(r"^https?://\S+$", url) or len(url) > 500):
        raise InvalidInput("Đường dẫn nguồn phải là địa chỉ http(s)", field="source_url")
    if content.valid_from and content.valid_until and content.valid_until < content.valid_from:
        raise InvalidInput("Ngày hết hiệu lực trước ngày bắt đầu hiệu lực", field="valid_until")
    return replace(
        content,
        question=question,
        answer=answer,
        category_code=content.category_code or None,
        source_document=source,
        source_url=url,
    )


async def _free_slug(session: AsyncSession, wanted: str | None, question: str) -> str:
    if wanted is not None:
        if not SLUG.match(wanted) or len(wanted) > 120:
            raise InvalidInput(
                "Mã bài chỉ gồm chữ thường không dấu, số và dấu gạch ngang", field="slug"
            )
        if await session.scalar(select(Article.id).where(Article.slug == wanted)):
            raise Conflict(msg("Đã có bài mã {slug}", slug=wanted), field="slug")
        return wanted
    base = "-".join(words(question))[:80].strip("-") or "bai"
    slug, n = base, 1
    while await session.scalar(select(Article.id).where(Article.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _revision(
    article_id: int, number: int, action: RevisionAction, content: Content, actor: Actor, note: str
) -> ArticleRevision:
    return ArticleRevision(
        article_id=article_id,
        number=number,
        action=action,
        note=note.strip(),
        actor_id=actor.user_id,
        **asdict(content),
    )


def _announce(session: AsyncSession, kind: str, article: Article, actor: Actor) -> None:
    record_event(
        session,
        DomainEvent(
            kind=f"article.{kind}",
            data={
                "id": article.id,
                "slug": article.slug,
                "status": article.status.value,
                "version": article.version,
                "actor": actor.username,
            },
        ),
    )


async def create_article(
    session: AsyncSession,
    *,
    actor: Actor,
    content: Content,
    slug: str | None = None,
    note: str = "",
) -> Article:
    """A new draft with its first revision; emits article.created."""
    require_editor(actor)
    content = await validate(session, content)
    now = utcnow()
    article = Article(
        slug=await _free_slug(session, slug, content.question),
        status=ArticleStatus.DRAFT,
        version=1,
        created_by_id=actor.user_id,
        updated_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **asdict(content),
        **search_fields(content),
    )
    try:
        # Another editor may take the same slug between the check above and this insert:
        # their 409, not a 500 (the savepoint keeps the rest of the transaction usable).
        async with session.begin_nested():
            session.add(article)
            await session.flush()
    except IntegrityError:
        raise Conflict(msg("Đã có bài mã {slug}", slug=article.slug), field="slug") from None
    session.add(_revision(article.id, 1, RevisionAction.CREATED, content, actor, note))
    await session.flush()
    _announce(session, "created", article, actor)
    return article


async def working_content(session: AsyncSession, article: Article) -> Content:
    """What an editor edits: the pending draft if there is one, else the live text."""
    if article.draft_version is not None:
        draft = await revision(session, article.id, article.draft_version)
        if draft is not None:
            return content_of(draft)
    return content_of(article)


def _expect(article: Article, expected_version: int | None) -> None:
    """The version the editor read must still be the article's, or their verb acts on text
    they never saw (another editor's newer draft)."""
    if expected_version is not None and expected_version != article.version:
        raise Conflict("Bài vừa được người khác sửa, vui lòng tải lại", field="version")


async def _save(
    session: AsyncSession,
    article: Article,
    *,
    expected_version: int,
    values: dict[str, Any],
    rev: ArticleRevision,
) -> None:
    """Bump the version only if nobody else did meanwhile, then append the revision."""
    result = await session.execute(
        update(Article)
        .where(Article.id == article.id, Article.version == expected_version)
        .values(version=expected_version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Bài vừa được người khác sửa, vui lòng tải lại", field="version")
    session.add(rev)
    await session.flush()
    await session.refresh(article)


async def update_article(
    session: AsyncSession,
    *,
    actor: Actor,
    article: Article,
    changes: dict[str, Any],
    note: str = "",
    expected_version: int | None = None,
) -> Article:
    """Save an edit as a new revision; on a published article it waits as a draft.

    `changes` holds Content field names; no change at all writes nothing.
    """
    require_editor(actor)
    _expect(article, expected_version)
    new_status = transition(article.status, "edit")
    current = await working_content(session, article)
    content = await validate(session, replace(current, **changes))
    if content == current:
        return article
    number = article.version + 1
    values: dict[str, Any] = {"updated_by_id": actor.user_id, "status": new_status}
    if article.status == ArticleStatus.PUBLISHED:
        values["draft_version"] = number
    else:
        values.update(asdict(content), **search_fields(content), draft_version=None)
    rev = _revision(article.id, number, RevisionAction.EDITED, content, actor, note)
    await _save(session, article, expected_version=article.version, values=values, rev=rev)
    _announce(session, "updated", article, actor)
    return article


async def publish_article(
    session: AsyncSession,
    *,
    actor: Actor,
    article: Article,
    note: str = "",
    expected_version: int | None = None,
) -> Article:
    """Make the draft (or the pending edit of a published article) the live text."""
    require_editor(actor)
    _expect(article, expected_version)
    new_status = transition(article.status, "publish")
    if article.status == ArticleStatus.PUBLISHED and article.draft_version is None:
        raise InvalidTransition("Bài đã xuất bản và không có bản sửa chờ duyệt", field="status")
    content = await working_content(session, article)
    number = article.version + 1
    values: dict[str, Any] = {
        **asdict(content),
        **search_fields(content),
        "status": new_status,
        "published_version": number,
        "draft_version": None,
        "published_at": utcnow(),
        "updated_by_id": actor.user_id,
    }
    rev = _revision(article.id, number, RevisionAction.PUBLISHED, content, actor, note)
    await _save(session, article, expected_version=article.version, values=values, rev=rev)
    _announce(session, "published", article, actor)
    return article


async def archive_article(
    session: AsyncSession,
    *,
    actor: Actor,
    article: Article,
    note: str = "",
    expected_version: int | None = None,
) -> Article:
    """Withdraw an article from readers and search; a pending draft is dropped."""
    require_editor(actor)
    _expect(article, expected_version)
    new_status = transition(article.status, "archive")
    number = article.version + 1
    values = {"status": new_status, "draft_version": None, "updated_by_id": actor.user_id}
    rev = _revision(article.id, number, RevisionAction.ARCHIVED, content_of(article), actor, note)
    await _save(session, article, expected_version=article.version, values=values, rev=rev)
    _announce(session, "archived", article, actor)
    return article


async def draft_for(session: AsyncSession, *, actor: Actor, article: Article) -> Content | None:
    """The pending draft of an article, shown to editors only (None for anyone else)."""
    if not can_edit(actor) or article.draft_version is None:
        return None
    return await working_content(session, article)


async def revisions_for(
    session: AsyncSession, *, actor: Actor, article: Article
) -> list[ArticleRevision]:
    """An article's history: all of it for editors, what was published for everyone else."""
    revisions = await queries.revisions_of(session, article.id)
    if can_edit(actor):
        return revisions
    return [r for r in revisions if r.action == RevisionAction.PUBLISHED]


@dataclass(frozen=True)
class FieldDiff:
    """One content field that differs between two revisions, line by line: ("same" |
    "removed" | "added", text)."""

    field: str
    lines: list[tuple[str, str]]


_KINDS = {"  ": "same", "- ": "removed", "+ ": "added"}


async def compare_revisions(
    session: AsyncSession, *, actor: Actor, article: Article, old: int, new: int
) -> list[FieldDiff]:
    """What changed from revision `old` to revision `new` of an article, field by field
    (editors; the fields that did not change are left out)."""
    require_editor(actor)
    found = {r.number: r for r in await revisions_for(session, actor=actor, article=article)}
    for number, name in ((old, "old"), (new, "new")):
        if number not in found:
            raise NotFound(msg("Không có bản sửa số {number}", number=number), field=name)
    diffs = []
    for name in CONTENT_FIELDS:
        before = _text(getattr(found[old], name))
        after = _text(getattr(found[new], name))
        if before == after:
            continue
        lines = [
            (_KINDS[line[:2]], line[2:])
            for line in difflib.ndiff(before.splitlines(), after.splitlines())
            if line[:2] in _KINDS
        ]
        diffs.append(FieldDiff(name, lines))
    return diffs


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)
