"""Live domain events as server-sent events, filtered by what each user may see.

Each event carries its id in the event log (`id:`); a client that reconnects with
`Last-Event-ID` (or `?last_event_id=`, for EventSource polyfills that cannot set headers)
first gets what it missed, read from the log, then the live events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette.sse import EventSourceResponse

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor, actor_for_page_session, actor_for_token
from hotline.calls.line_queue import QUEUE_CHANGED, LineQueue, QueueBoard, read_board
from hotline.care.access import event_data as care_event_data
from hotline.care.access import event_visible as care_event_visible
from hotline.cases.access import event_data_for
from hotline.contacts.models import Channel
from hotline.db import utcnow
from hotline.errors import Unauthenticated
from hotline.events import DomainEvent, oldest_id, read_after
from hotline.knowledge.access import readable_statuses
from hotline.web.deps import current_actor, get_state, oauth2, page_session_id
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["events"])


# Events meant for one user's console only (the caller's card when their phone answers).
PERSONAL = {"call.answered": "operator_id"}


def visible(actor: Actor, event: DomainEvent) -> bool:
    if event.kind in PERSONAL:
        return actor.user_id is not None and event.data.get(PERSONAL[event.kind]) == actor.user_id
    if event.kind.startswith("care."):
        # Health data: the patient's doctor and the supervisors only (care/access.py).
        return care_event_visible(actor, event.data)
    if event.kind == "staffing.swap":
        # A swap's step: the supervisors, and the people of that swap (the holder, the
        # colleague asked to take the place, whoever filed it).
        people = {event.data.get(k) for k in ("requested_by", "to_user_id", "filed_by")}
        return allows(actor, Permission.MANAGE_STAFFING) or (
            actor.user_id is not None and actor.user_id in people
        )
    if event.kind.startswith("staffing."):
        # Unfilled shifts, surge mode: the supervisors' alerts (staffing/).
        return allows(actor, Permission.MANAGE_STAFFING)
    if event.kind.startswith("article."):
        # Drafts and archived articles are the editors' (knowledge/access.py), even by slug.
        status = event.data.get("status")
        return status in {s.value for s in readable_statuses(actor)}
    if actor.is_hotline_staff:
        return True
    return actor.unit_id is not None and actor.unit_id in event.unit_ids


def as_seen_by(actor: Actor, event: DomainEvent) -> dict[str, object]:
    """The event as this actor may read it (case timeline data: `event_data_for`)."""
    out = event.as_json()
    data = event.data
    if event.kind.startswith("care."):
        out["data"] = care_event_data(data)
        return out
    care = event.kind.startswith("case.") and data.get("channel") == Channel.CARE.value
    out["data"] = event_data_for(
        actor,
        data,
        channel=Channel.CARE if care else None,
        assignee_id=data.get("assignee_id") if care else None,
    )
    return out


REVISION_POLL = 0.5


def _resume_from(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw.strip())


def _queue_message(figures: LineQueue) -> dict[str, str]:
    """`queue.now`: callers waiting in the phone line's queues, summed over its instances.
    No id: it is derived, not logged (a resuming client gets it again anyway)."""
    now = utcnow()
    body = {"kind": "queue.now", "data": figures.as_json(now), "at": now.isoformat()}
    return {"event": "queue.now", "data": json.dumps(body)}


def _message(actor: Actor, event: DomainEvent) -> dict[str, str]:
    return {
        "event": event.kind,
        "id": str(event.id),
        "data": json.dumps(as_seen_by(actor, event), ensure_ascii=False),
    }


@router.get("/events")
async def events(
    request: Request,
    actor: Annotated[Actor, Depends(current_actor)],
    state: Annotated[AppState, Depends(get_state)],
    token: Annotated[str | None, Depends(oauth2)],
    with_queue: Annotated[bool, Query(alias="queue")] = False,
) -> EventSourceResponse:
    """Live domain events; with `queue=true` (hotline staff), also `queue.now`: callers
    waiting in the phone line's queues, at once and whenever the figures change."""
    # A stream outlives the check made when it opened: the caller is checked again every
    # events_recheck_seconds, and at once when this process revokes something, so a
    # revoked token, ended session or disabled account stops receiving events.
    session_id = None if token else page_session_id(request)

    async def still_allowed() -> bool:
        try:
            async with state.shielded_unit_of_work(read_only=False) as session:
                if token:
                    await actor_for_token(session, token=token)
                elif session_id is not None:
                    await actor_for_page_session(
                        session, session_id=session_id, ttl_hours=state.settings.session_ttl_hours
                    )
                else:
                    return False
        except Unauthenticated:
            return False
        return True

    async def stream() -> AsyncIterator[dict[str, str]]:
        loop = asyncio.get_running_loop()
        every = state.settings.events_recheck_seconds
        async with state.bus.subscribe() as queue:
            # Everything after `upto` comes through the queue (the feed delivers in id
            # order); what the client missed up to it comes from the log.
            upto = state.feed.last
            after = _resume_from(request)
            missed: list[DomainEvent] = []
            reset = False
            # The line's queue events are not streamed one by one (a line repeats them
            # every few seconds): the stream sends `queue.now` when the sum changes.
            board: QueueBoard | None = None
            if with_queue and allows(actor, Permission.RECORD_CALLS):
                async with state.shielded_unit_of_work() as session:
                    board = await read_board(session, actor=actor, now=utcnow())
            if after is not None and after < upto:
                limit = state.settings.events_replay_max
                async with state.shielded_unit_of_work() as session:
                    oldest = await oldest_id(session)
                    missed = await read_after(
                        session, after, upto=upto, limit=limit + 1, exclude=(QUEUE_CHANGED,)
                    )
                # Too much missed, or pruned already: the client reloads instead.
                reset = len(missed) > limit or (oldest is not None and after + 1 < oldest)
            ready = {"event": "ready", "data": json.dumps({"user": actor.username})}
            if after is None or reset:
                ready["id"] = str(upto)
            yield ready
            if reset:
                yield {"event": "reset", "id": str(upto), "data": "{}"}
            else:
                for past in missed:
                    if visible(actor, past):
                        yield _message(actor, past)
            seen = max(upto, after or 0)
            shown: tuple[int, object] | None = None
            if board is not None:
                figures = board.now(utcnow())
                shown = (figures.waiting, figures.oldest_at)
                yield _queue_message(figures)
            checked_at, revision = loop.time(), state.tokens.revision
            while True:
                if queue.overflowed and queue.empty():
                    # Events were lost to a slow reader: it resumes from its last id.
                    return
                event: DomainEvent | None
                try:
                    # Woken at least every REVISION_POLL seconds: a revocation in this process
                    # (a new revision) ends the stream then, not at the next periodic check.
                    wait = min(REVISION_POLL, max(0.0, checked_at + every - loop.time()))
                    event = await asyncio.wait_for(queue.get(), timeout=wait)
                except TimeoutError:
                    event = None
                due = loop.time() >= checked_at + every
                if due or state.tokens.revision != revision:
                    revision = state.tokens.revision
                    if not await still_allowed():
                        yield {"event": "signed_out", "data": "{}"}
                        return
                    checked_at = loop.time()
                if board is not None:
                    # A change, or a line gone silent long enough to be left out.
                    if event is not None:
                        board.apply(event)
                    figures = board.now(utcnow())
                    if (figures.waiting, figures.oldest_at) != shown:
                        shown = (figures.waiting, figures.oldest_at)
                        yield _queue_message(figures)
                if event is None:
                    if due and await request.is_disconnected():
                        return
                    continue
                if event.kind == QUEUE_CHANGED:
                    continue
                if event.id is not None and event.id <= seen:
                    continue
                if visible(actor, event):
                    yield _message(actor, event)

    return EventSourceResponse(stream(), ping=15)
