"""Saved replies: texts an operator inserts in the reply box in one click, kept per
category by those who keep the knowledge base (supervisors and administrators). Every
change is in the administrators' audit trail (`kind=saved_reply`)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.audit import record_change
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.channels.models import SavedReply
from hotline.db import utcnow
from hotline.directory.service import get_category
from hotline.errors import InvalidInput, NotFound
from hotline.messages import msg

# The placeholder a saved reply or an acknowledgement writes for the case's tracking code.
CASE_CODE = "{ma_ho_so}"
REFUSED = msg("Chỉ trưởng ca và quản trị viên sửa câu trả lời mẫu")
MAX_TITLE = 200
MAX_TEXT = 2000  # a reply's limit (conversations.MAX_REPLY)


def fill(text: str, case_code: str | None) -> str:
    """The text with the case's code in place of `{ma_ho_so}` (left as typed without one)."""
    return text.replace(CASE_CODE, case_code) if case_code else text


def _audited(reply: SavedReply) -> dict[str, object]:
    return {"category": reply.category_code, "title": reply.title, "text": reply.text}


async def list_saved_replies(
    session: AsyncSession, *, actor: Actor, category: str | None = None, every: bool = False
) -> list[SavedReply]:
    """Those of a category and those for every category (all of them with `every`), by
    title; for whoever replies to citizens."""
    require(actor, Permission.REPLY_TO_CITIZENS)
    stmt = select(SavedReply).order_by(SavedReply.title, SavedReply.id)
    if not every:
        stmt = stmt.where(
            or_(SavedReply.category_code.is_(None), SavedReply.category_code == category)
            if category
            else SavedReply.category_code.is_(None)
        )
    return list((await session.scalars(stmt)).all())


async def _clean(
    session: AsyncSession, *, category: str | None, title: str, text: str
) -> tuple[str | None, str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > MAX_TITLE or "\x00" in title:
        raise InvalidInput(msg("Tiêu đề từ 1 đến {n} ký tự", n=MAX_TITLE), field="title")
    if not text or len(text) > MAX_TEXT or "\x00" in text:
        raise InvalidInput(msg("Nội dung từ 1 đến {n} ký tự", n=MAX_TEXT), field="text")
    code = (category or "").strip() or None
    if code is not None:
        await get_category(session, code)
    return code, title, text


async def create_saved_reply(
    session: AsyncSession, *, actor: Actor, category: str | None, title: str, text: str
) -> SavedReply:
    """A new saved reply (supervisors and administrators); audited."""
    require(actor, Permission.EDIT_KNOWLEDGE, REFUSED)
    code, title, text = await _clean(session, category=category, title=title, text=text)
    reply = SavedReply(
        category_code=code,
        title=title,
        text=text,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    session.add(reply)
    await session.flush()
    record_change(
        session,
        actor=actor,
        kind="saved_reply",
        key=reply.id,
        action="create",
        after=_audited(reply),
    )
    return reply


async def get_saved_reply(session: AsyncSession, *, actor: Actor, reply_id: int) -> SavedReply:
    require(actor, Permission.REPLY_TO_CITIZENS)
    reply = await session.get(SavedReply, reply_id)
    if reply is None:
        raise NotFound(msg("Không có câu trả lời mẫu {id}", id=reply_id), field="reply_id")
    return reply


async def update_saved_reply(
    session: AsyncSession,
    *,
    actor: Actor,
    reply_id: int,
    category: str | None = None,
    title: str | None = None,
    text: str | None = None,
    every_category: bool = False,
) -> SavedReply:
    """Change its title, text or category (`every_category`: for every category); audited."""
    require(actor, Permission.EDIT_KNOWLEDGE, REFUSED)
    reply = await get_saved_reply(session, actor=actor, reply_id=reply_id)
    before = _audited(reply)
    code = None if every_category else (category if category is not None else reply.category_code)
    code, new_title, new_text = await _clean(
        session,
        category=code,
        title=reply.title if title is None else title,
        text=reply.text if text is None else text,
    )
    reply.category_code, reply.title, reply.text = code, new_title, new_text
    reply.updated_by, reply.updated_at = actor.user_id, utcnow()
    await session.flush()
    record_change(
        session,
        actor=actor,
        kind="saved_reply",
        key=reply.id,
        action="update",
        before=before,
        after=_audited(reply),
    )
    return reply


async def delete_saved_reply(session: AsyncSession, *, actor: Actor, reply_id: int) -> None:
    """Remove it; audited."""
    require(actor, Permission.EDIT_KNOWLEDGE, REFUSED)
    reply = await get_saved_reply(session, actor=actor, reply_id=reply_id)
    record_change(
        session,
        actor=actor,
        kind="saved_reply",
        key=reply.id,
        action="delete",
        before=_audited(reply),
    )
    await session.delete(reply)
    await session.flush()
