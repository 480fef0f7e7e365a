"""Job handlers of the attachments domain, loaded by the worker (jobs/worker.py): the files
kept from a conversation's messages (channels/files.py) become its case's attachments once
the conversation is tied to a case, and the files a message links to are fetched and kept
(fetch.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments.fetch import fetch_message_files
from hotline.attachments.service import attach_kept
from hotline.auth.service import SYSTEM
from hotline.cases.models import Case
from hotline.channels.files import FETCH_FILES, FILES_TO_CASE, conversation_files
from hotline.jobs.runs import Handler


async def files_to_case(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Each kept file once (a rerun adds none)."""
    case = await session.get(Case, int(payload["case_id"]))
    if case is None:
        return
    kept = await conversation_files(session, int(payload["conversation_id"]))
    await attach_kept(session, actor=SYSTEM, case=case, kept=kept)


HANDLERS: dict[str, Handler] = {FILES_TO_CASE: files_to_case, FETCH_FILES: fetch_message_files}
