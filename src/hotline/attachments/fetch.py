"""A citizen's files sent as links (Zalo, Messenger, Viber), fetched from the provider's CDN
before the links expire and kept like an e-mail's attachments (channels/files.py).

The `FETCH_FILES` job runs in steps (jobs/runs.py), so no transaction waits on the network:
it reads the message's links, downloads them, then keeps what came in one transaction. A file
too big or not of an allowed type (an `image` that is not a picture, an HTML error page) is
`refused` at once; a download that failed in a way that may pass (no connection, a timeout,
a 5xx, a rate limit) makes the job retry with the worker's backoff, and after its last
attempt the attachment gets `fetch_failed` (the reason), its link kept. A link the CDN
refuses (another 4xx: expired, gone) is `fetch_failed` at once. The links come in payloads
whose signature was checked; only http(s) ones are fetched, redirects followed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments.service import attach_kept, keep_file
from hotline.auth.service import SYSTEM
from hotline.cases.models import Case
from hotline.channels.files import to_fetch
from hotline.channels.models import Conversation, Message
from hotline.errors import DomainError, TooLarge, UnsupportedMedia
from hotline.events import DomainEvent, record_event
from hotline.jobs.runs import JobRun, in_steps
from hotline.messages import msg
from hotline.site import site_of

log = structlog.get_logger("hotline.attachments.fetch")

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
IMAGE_KINDS = frozenset({"image", "gif"})


class FetchAgain(Exception):
    """A download that may succeed later: the job is retried."""


@dataclass(frozen=True)
class Fetched:
    data: bytes | None = None
    refused: str | None = None  # too big, not an allowed type: never retried
    failed: str | None = None  # the link gave nothing, and retrying will not help


def _too_big(limit: int) -> str:
    return msg("Tệp vượt quá {limit_mb:g} MB", limit_mb=limit / 1024 / 1024)


async def download(http: httpx.AsyncClient, url: str, *, limit: int) -> Fetched:
    """One file, read up to `limit` bytes (a longer one is refused without reading the
    rest); FetchAgain when trying later may help."""
    try:
        async with http.stream("GET", url) as response:
            status = response.status_code
            if status in (408, 425, 429) or status >= 500:
                raise FetchAgain(f"HTTP {status}")
            if status >= 400:
                return Fetched(failed=msg("Nhà cung cấp trả lời HTTP {s}", s=status))
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return Fetched(refused=_too_big(limit))
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    return Fetched(refused=_too_big(limit))
            return Fetched(data=bytes(body))
    except httpx.TransportError as exc:
        raise FetchAgain(type(exc).__name__) from None


def file_name(item: dict[str, Any]) -> str:
    """The citizen's name for the file, else the link's last path segment."""
    name = str(item.get("name") or "").strip()
    if name:
        return name
    path = unquote(urlsplit(str(item.get("url") or "")).path)
    return posixpath.basename(path) or "tep-dinh-kem"


def _keep(session: AsyncSession, item: dict[str, Any], data: bytes) -> dict[str, Any]:
    """The attachment's `stored` (the kept file's description), or raise why it is refused."""
    kept = keep_file(session, filename=file_name(item), data=data)
    if item.get("kind") in IMAGE_KINDS and not kept.media_type.startswith("image/"):
        Path(site_of(session).attachments_dir / kept.storage_name).unlink(missing_ok=True)
        raise UnsupportedMedia(msg("Tệp gửi là ảnh nhưng nội dung không phải ảnh"), field="file")
    return kept.as_json()


async def _fetch_all(
    links: dict[int, str], *, limit: int, last: bool
) -> tuple[dict[int, Fetched], list[str]]:
    results: dict[int, Fetched] = {}
    again: list[str] = []
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as http:
        for index, url in links.items():
            try:
                results[index] = await download(http, url, limit=limit)
            except FetchAgain as exc:
                reason = msg("Không tải được tệp ({why})", why=str(exc))
                if last:
                    results[index] = Fetched(failed=reason)
                else:
                    again.append(str(exc))
    return results, again


def _apply(
    session: AsyncSession, attachments: list[dict[str, Any]], results: dict[int, Fetched]
) -> list[dict[str, Any]]:
    """The fetched files kept into the message's attachments; the newly kept ones."""
    kept = []
    for index, fetched in results.items():
        item = attachments[index]
        if not to_fetch(item):
            continue  # another run got there first
        if fetched.data is not None:
            try:
                item["stored"] = _keep(session, item, fetched.data)
                kept.append(item["stored"])
            except (TooLarge, UnsupportedMedia, DomainError) as exc:
                item["refused"] = str(exc.detail)
        elif fetched.refused is not None:
            item["refused"] = str(fetched.refused)
        else:
            item["fetch_failed"] = str(fetched.failed)
    return kept


@in_steps
async def fetch_message_files(run: JobRun, payload: dict[str, Any]) -> None:
    """The `FETCH_FILES` job: each linked file of the message fetched and kept once (kept,
    refused or given up on, an attachment is not fetched again), and attached to the
    conversation's case if it has one; its conversation's readers are told."""
    message_id = int(payload["message_id"])
    async with run.steps() as session:
        message = await session.get(Message, message_id)
        if message is None:
            return
        links = {i: str(a["url"]) for i, a in enumerate(message.attachments or []) if to_fetch(a)}
        limit = site_of(session).attachment_max_bytes
    if not links:
        return
    results, again = await _fetch_all(links, limit=limit, last=run.last)
    if results:
        opened: list[AsyncSession] = []
        try:
            async with run.steps() as session:
                opened.append(session)
                message = await session.get(Message, message_id, with_for_update=True)
                if message is None:
                    return
                attachments = [dict(a) for a in message.attachments or []]
                kept = _apply(session, attachments, results)
                message.attachments = attachments
                conversation = await session.get(Conversation, message.conversation_id)
                if conversation is not None and conversation.case_id is not None and kept:
                    case = await session.get(Case, conversation.case_id)
                    if case is not None:
                        await attach_kept(session, actor=SYSTEM, case=case, kept=kept)
                if conversation is not None:
                    record_event(
                        session,
                        DomainEvent(
                            kind="conversation.message",
                            data={
                                "conversation_id": conversation.id,
                                "channel_id": conversation.channel_id,
                                "message_id": message.id,
                                "direction": "in",
                            },
                        ),
                    )
                await session.flush()
        except BaseException:
            # The files kept in the transaction that did not commit (keep_file's list).
            for path in opened[0].info.pop("on_rollback_unlink", []) if opened else []:
                Path(path).unlink(missing_ok=True)
            raise
    if again:
        log.info("attachment_fetch_retry", message_id=message_id, errors=again)
        raise FetchAgain("; ".join(again))
