"""Live domain events as server-sent events, filtered by what each user may see."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from hotline.auth.service import Actor
from hotline.cases.access import event_data_for
from hotline.events import DomainEvent
from hotline.knowledge.access import readable_statuses
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["events"])


# Events meant for one user's console only (the caller's card when their phone answers).
PERSONAL = {"call.answered": "operator_id"}


def visible(actor: Actor, event: DomainEvent) -> bool:
    if event.kind in PERSONAL:
        return actor.user_id is not None and event.data.get(PERSONAL[event.kind]) == actor.user_id
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
    out["data"] = event_data_for(actor, event.data)
    return out


@router.get("/events")
async def events(
    request: Request,
    actor: Annotated[Actor, Depends(current_actor)],
    state: Annotated[AppState, Depends(get_state)],
) -> EventSourceResponse:
    async def stream() -> AsyncIterator[dict[str, str]]:
        async with state.bus.subscribe() as queue:
            yield {"event": "ready", "data": json.dumps({"user": actor.username})}
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    continue
                if visible(actor, event):
                    yield {
                        "event": event.kind,
                        "data": json.dumps(as_seen_by(actor, event), ensure_ascii=False),
                    }

    return EventSourceResponse(stream(), ping=15)
