"""Job handlers of the cases domain, registered with the worker (jobs/worker.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import SYSTEM
from hotline.cases import timeline
from hotline.cases.models import Case, CaseEvent, Channel
from hotline.cases.sharing import NOTIFY_REPORTER
from hotline.cases.transitions import CHANNEL_LABELS_VI

PENDING_KIND = "notification_pending"


async def notify_reporter(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Tell a merged case's reporter the shared answer.

    For a reporter with no conversation on a connected channel (channels/jobs.py answers the
    others): the notification is recorded on the case's timeline as pending delivery, as a
    callback task for phone reporters. Jobs run at
    least once, so a rerun of the same job (its key) records nothing twice.
    """
    case = await session.get(Case, int(payload["case_id"]))
    if case is None:
        return  # the case was deleted (erasure request): nobody left to tell
    key = str(payload.get("key", ""))
    done = await session.scalars(
        select(CaseEvent.data).where(CaseEvent.case_id == case.id, CaseEvent.kind == PENDING_KIND)
    )
    if key and any(d.get("key") == key for d in done.all()):
        return
    channel = str(payload.get("channel") or case.channel.value)
    if channel == Channel.PHONE.value:
        delivery = "callback"
        note = f"Gọi lại cho người dân để báo kết quả của yêu cầu gốc {payload['primary']}"
    else:
        delivery = "pending_channel"
        label = CHANNEL_LABELS_VI.get(channel, channel)
        note = f"Kết quả sẽ được gửi qua {label} khi kênh này được kết nối"
    await timeline.log(
        session,
        case,
        PENDING_KIND,
        SYSTEM,
        reason=note,
        data={
            "key": key,
            "channel": channel,
            "delivery": delivery,
            "contact_id": payload.get("contact_id"),
            "primary": payload.get("primary"),
            "cases": payload.get("case_codes", [case.code]),
        },
    )


HANDLERS = {NOTIFY_REPORTER: notify_reporter}
