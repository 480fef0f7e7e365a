"""Files that arrive with a citizen's message, kept by the attachments domain with its size
cap, its check of the type by content and its storage. That domain sits above channels in
the layers:

- E-mail carries the bytes: the program that reads the mailboxes hands its `keep_file` down
  (jobs/worker.py), and the message's attachment records the kept file, or why it was
  refused, instead of dropping the bytes.
- Zalo, Messenger and Viber give a link to the provider's CDN, which expires: the message is
  stored with the link and a `FETCH_FILES` job (attachments/fetch.py), queued in the same
  transaction, fetches each file, keeps it like an e-mail's, and attaches it to the
  conversation's case when it has one. Until then the attachment shows the link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import Inbound, InboundAttachment
from hotline.channels.models import Direction, Message
from hotline.errors import DomainError, NotFound
from hotline.jobs.service import enqueue
from hotline.messages import msg

# The attachments domain's job (attachments/jobs.py): a conversation's kept files become
# its case's attachments when the conversation is tied to a case.
FILES_TO_CASE = "attachments_from_conversation"

# The attachments domain's job (attachments/fetch.py): a message's linked files fetched and
# kept. Its key is the message's: a message's files are fetched by one job.
FETCH_FILES = "attachments_fetch_message_files"
FETCH_ATTEMPTS = 5
# The kinds of linked attachment that are files (a Zalo `link` or Messenger `fallback` is a
# web page, a sticker a provider's picture: not the citizen's).
FETCHED_KINDS = frozenset({"image", "gif", "video", "audio", "file"})

# (session, file name, bytes) -> the kept file's description (its `storage_name` among it),
# raising a DomainError when the file is refused (too big, not an allowed type).
KeepFile = Callable[[AsyncSession, str, bytes], dict[str, Any]]


def describe(a: InboundAttachment) -> dict[str, Any]:
    return {"kind": a.kind, "url": a.url, "name": a.name, "content_type": a.content_type}


def keep_attachments(
    session: AsyncSession, event: Inbound, keep_file: KeepFile | None
) -> list[dict[str, Any]]:
    """The message's attachments as stored: each with bytes kept (`stored`, the kept
    file) or refused (`refused`, the reason in Vietnamese); without a keeper, as before."""
    out = []
    for a in event.attachments:
        item = describe(a)
        if a.data and keep_file is not None:
            try:
                item["stored"] = keep_file(session, a.name or "tep-dinh-kem", a.data)
            except DomainError as exc:
                item["refused"] = str(exc.detail)
        out.append(item)
    return out


def to_fetch(item: dict[str, Any]) -> bool:
    """A stored attachment still to be fetched: a file's http(s) link, not yet kept, refused
    or given up on."""
    url = item.get("url")
    return (
        item.get("kind") in FETCHED_KINDS
        and isinstance(url, str)
        and url.lower().startswith(("https://", "http://"))
        and not any(k in item for k in ("stored", "refused", "fetch_failed"))
    )


def wants_fetch(event: Inbound) -> bool:
    """A citizen's message with files to fetch from the provider's links."""
    return any(to_fetch(describe(a)) for a in event.attachments if not a.data)


async def queue_fetch_files(session: AsyncSession, *, message_id: int) -> None:
    """The message's linked files are to be fetched (in the transaction that stored it)."""
    await enqueue(
        session,
        kind=FETCH_FILES,
        key=f"{FETCH_FILES}:{message_id}",
        payload={"message_id": message_id},
        max_attempts=FETCH_ATTEMPTS,
    )


def kept_files(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The kept files among a message's attachments."""
    return [a["stored"] for a in attachments if isinstance(a.get("stored"), dict)]


async def conversation_files(session: AsyncSession, conversation_id: int) -> list[dict[str, Any]]:
    """The files kept from the citizen's messages of a conversation, oldest first."""
    rows = await session.scalars(
        select(Message.attachments)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.IN)
        .order_by(Message.created_at, Message.id)
    )
    return [f for attachments in rows.all() for f in kept_files(list(attachments or []))]


async def queue_files_to_case(session: AsyncSession, *, conversation_id: int, case_id: int) -> None:
    """The conversation was tied to a case: its kept files are to become the case's."""
    await enqueue(
        session,
        kind=FILES_TO_CASE,
        key=f"{FILES_TO_CASE}:{conversation_id}:{case_id}",
        payload={"conversation_id": conversation_id, "case_id": case_id},
    )


async def message_file(
    session: AsyncSession, *, conversation_id: int, message_id: int, index: int
) -> dict[str, Any]:
    """A kept file of a message of this conversation (the caller checked the reader may see
    the conversation): its description, `storage_name` and `media_type` among it."""
    message = await session.get(Message, message_id)
    attachments = list(message.attachments or []) if message is not None else []
    if (
        message is None
        or message.conversation_id != conversation_id
        or not 0 <= index < len(attachments)
        or not isinstance(attachments[index].get("stored"), dict)
    ):
        raise NotFound(msg("Không tìm thấy tệp"), field="file")
    return dict(attachments[index]["stored"])
