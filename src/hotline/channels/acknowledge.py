"""The automatic acknowledgement: when a conversation opens a case, a channel with
`auto_ack` set tells the citizen their tracking code, through the outbox.

Never to a machine (a message marked automatic, RFC 3834: an auto-responder answering an
acknowledgement is how mail loops start), never to a citizen who unfollowed, and at most
`ACK_LIMIT` per citizen and channel in `ACK_WINDOW` (a citizen whose messages open several
cases in a row is not flooded).

While the line is in surge mode the caller of `acknowledge` passes the expected wait, and
the acknowledgement says it (the channel's `ack_wait_text`, or DEFAULT_WAIT_TEXT, with
`{phut}` for the minutes). The figure comes from staffing's surge mode, which sits above
this domain: the routes that open a case read it and hand it down.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.models import Channel, Conversation, Direction, Message
from hotline.channels.outbox import queue_message
from hotline.channels.saved_replies import fill
from hotline.db import utcnow

ACK = "ack"  # the outgoing message's source
ACK_WINDOW = timedelta(hours=1)
ACK_LIMIT = 3
DEFAULT_TEXT = (
    "Tổng đài 1022 đã tiếp nhận phản ánh của bạn, mã hồ sơ {ma_ho_so}. "
    "Chúng tôi sẽ trả lời bạn qua kênh này."
)

DEFAULT_WAIT_TEXT = (
    "Tổng đài đang nhận rất nhiều phản ánh; thời gian chờ dự kiến khoảng {phut} phút. "
    "Mong bạn thông cảm."
)


def wants_ack(channel: Channel) -> bool:
    value = channel.settings.get("auto_ack")
    return value is True or str(value).strip().lower() in {"1", "true", "yes", "on"}


async def _from_a_machine(session: AsyncSession, conversation: Conversation) -> bool:
    """The citizen's last message was sent by a machine (or there is none)."""
    last = await session.scalar(
        select(Message.automatic)
        .where(Message.conversation_id == conversation.id, Message.direction == Direction.IN)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return last is None or bool(last)


async def _recent_acks(session: AsyncSession, conversation: Conversation) -> int:
    since = utcnow() - ACK_WINDOW
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.channel_id == conversation.channel_id,
                Conversation.external_user_id == conversation.external_user_id,
                Message.source == ACK,
                Message.created_at >= since,
            )
        )
        or 0
    )


async def acknowledge(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: Channel,
    case_code: str,
    wait_minutes: int | None = None,
) -> Message | None:
    """Queue the acknowledgement of a case opened from this conversation, or None when the
    channel does not want one or the rules above hold it back. One per case (its key).
    `wait_minutes` (surge mode): the expected wait, said after the tracking code."""
    if not wants_ack(channel) or not channel.enabled or not conversation.following:
        return None
    if await _from_a_machine(session, conversation):
        return None
    if await _recent_acks(session, conversation) >= ACK_LIMIT:
        return None
    template = str(channel.settings.get("ack_text") or "").strip() or DEFAULT_TEXT
    text = fill(template, case_code)
    if wait_minutes is not None:
        wait = str(channel.settings.get("ack_wait_text") or "").strip() or DEFAULT_WAIT_TEXT
        text += " " + wait.replace("{phut}", str(wait_minutes))
    return await queue_message(
        session,
        conversation=conversation,
        text=text[:2000],
        author_id=None,
        source=ACK,
        key=f"{ACK}:{conversation.id}:{case_code}",
    )
