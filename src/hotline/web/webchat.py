"""The web chat widget's public routes (static/webchat.js calls them from another site).

Request infrastructure rather than a domain's JSON API, like the staff event stream
(web/sse.py): cross-origin calls without a session, CORS answered per channel, and a live
stream of one visitor's thread. The rules are the channels domain's (channels/visitors.py).

- No cookie and no CSRF token: the visitor token travels in `Authorization: Bearer`, which
  a browser never attaches by itself, so another page cannot make a visitor's browser act
  for them; CORS headers go only to the channel's `allowed_origins`, and a call from any
  other origin (or none) is refused (403) before anything is read or written.
- Every answer a refusal included carries the CORS headers once the origin is known good,
  so the widget can read a 429 and wait instead of seeing a network error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette.sse import EventSourceResponse

from hotline.channels import visitors
from hotline.channels.models import Channel
from hotline.channels.webchat import Visitor
from hotline.errors import DomainError
from hotline.events import DomainEvent
from hotline.types import Id
from hotline.web.deps import client_address, get_state
from hotline.web.errors import domain_problem, gettext_of
from hotline.web.state import AppState

router = APIRouter(prefix="/chat/{channel_id}", tags=["web chat"])
StateDep = Annotated[AppState, Depends(get_state)]

ALLOW_HEADERS = "Authorization, Content-Type, Last-Event-ID"
PREFLIGHT_MAX_AGE = "600"
PING_SECONDS = 15
_ROUTES = frozenset({"session", "messages", "stream"})


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A citizen the embedding site knows, and its proof: HMAC-SHA256(secret, identifier), hex.
    identifier: str | None = Field(default=None, max_length=100)
    identity_hmac: str | None = Field(default=None, max_length=128)


class SessionOut(BaseModel):
    token: str
    title: str | None
    welcome_text: str | None


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Made by the widget once per message: the same message sent again is stored once.
    client_id: str = Field(max_length=64)
    text: str = Field(max_length=visitors.TEXT_MAX * 2)


class ChatMessageOut(BaseModel):
    id: int
    client_id: str | None
    # "visitor" or "hotline"
    from_: str = Field(alias="from")
    text: str
    at: str


class ThreadOut(BaseModel):
    title: str | None
    welcome_text: str | None
    # Open the stream with this as Last-Event-ID: nothing between this read and the stream
    # is missed.
    cursor: int
    messages: list[ChatMessageOut]


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


Work = Callable[[AsyncSession, Channel], Awaitable[tuple[int, Any]]]


async def _answer(
    request: Request, state: AppState, channel_id: int, work: Work, *, read_only: bool = False
) -> Response:
    """Run `work` for an enabled web chat channel called from one of its origins; its
    answer, or its refusal as problem+json, with the CORS headers that origin needs."""
    origin = request.headers.get("origin")
    allowed: str | None = None
    try:
        async with state.unit_of_work(read_only=read_only) as session:
            channel = await visitors.chat_channel(session, channel_id=channel_id, origin=origin)
            allowed = origin
            status, body = await work(session, channel)
        response: Response = JSONResponse(body, status_code=status)
    except DomainError as exc:
        response = domain_problem(exc, gettext_of(request))
    if allowed:
        response.headers.update(_cors(allowed))
    return response


@router.options("/{route}", include_in_schema=False)
async def preflight(channel_id: Id, route: str, request: Request, state: StateDep) -> Response:
    """CORS preflight: allowed for the channel's origins only."""
    origin = request.headers.get("origin")
    if route not in _ROUTES:
        return Response(status_code=404)
    try:
        async with state.unit_of_work(read_only=True) as session:
            await visitors.chat_channel(session, channel_id=channel_id, origin=origin)
    except DomainError as exc:
        return Response(status_code=exc.status)
    assert origin is not None
    return Response(
        status_code=204,
        headers={
            **_cors(origin),
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )


@router.post("/session", status_code=201, response_model=SessionOut)
async def start(channel_id: Id, body: SessionIn, request: Request, state: StateDep) -> Response:
    """A visitor token (kept by the widget), anonymous or for a citizen the embedding site
    vouches for."""

    async def work(session: AsyncSession, channel: Channel) -> tuple[int, Any]:
        await state.webchat.session(client_address(request))
        started = visitors.start_session(
            channel, identifier=body.identifier, identity_hmac=body.identity_hmac
        )
        return 201, {
            "token": started.token,
            "title": started.title,
            "welcome_text": started.welcome_text,
        }

    return await _answer(request, state, channel_id, work, read_only=True)


@router.post("/messages", status_code=201, response_model=ChatMessageOut)
async def send(channel_id: Id, body: MessageIn, request: Request, state: StateDep) -> Response:
    """The visitor writes: 201 with the stored message, 200 with it for a repeat of its
    `client_id`."""

    async def work(session: AsyncSession, channel: Channel) -> tuple[int, Any]:
        visitor = visitors.visitor_of(channel, _token(request))
        await state.webchat.message(client_address(request), visitor.user_id)
        message, new = await visitors.post_message(
            session, channel=channel, visitor=visitor, client_id=body.client_id, text=body.text
        )
        return (201 if new else 200), visitors.as_seen(message)

    return await _answer(request, state, channel_id, work)


@router.get("/messages", response_model=ThreadOut)
async def read_thread(channel_id: Id, request: Request, state: StateDep) -> Response:
    """The visitor's thread, and the cursor to open their stream from."""

    async def work(session: AsyncSession, channel: Channel) -> tuple[int, Any]:
        visitor = visitors.visitor_of(channel, _token(request))
        # Noted before the read: every event after it is in the stream (web/sse.py).
        cursor = state.feed.last
        messages = await visitors.thread(session, visitor)
        settings = channel.settings
        return 200, {
            "title": settings.get("title") or None,
            "welcome_text": settings.get("welcome_text") or None,
            "cursor": cursor,
            "messages": [visitors.as_seen(m) for m in messages],
        }

    return await _answer(request, state, channel_id, work, read_only=True)


def _resume_from(request: Request) -> int | None:
    raw = request.headers.get("last-event-id", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


@router.get("/stream", include_in_schema=False)
async def stream(channel_id: Id, request: Request, state: StateDep) -> Response:
    """The visitor's thread live (server-sent events `message`, with the event log's id):
    their own conversations' messages and nothing else; resumed with `Last-Event-ID`."""
    token = _token(request)
    found: dict[str, Any] = {}

    async def work(session: AsyncSession, channel: Channel) -> tuple[int, Any]:
        found["visitor"] = visitors.visitor_of(channel, token)
        return 200, {}

    checked = await _answer(request, state, channel_id, work, read_only=True)
    if "visitor" not in found:
        return checked
    visitor: Visitor = found["visitor"]
    origin = str(request.headers.get("origin"))

    async def still_allowed() -> bool:
        """The channel is still enabled, this origin still allowed, the token still
        signed with the channel's secret (an administrator can end every visitor's stream
        by changing it)."""
        try:
            async with state.shielded_unit_of_work() as session:
                channel = await visitors.chat_channel(session, channel_id=channel_id, origin=origin)
                visitors.visitor_of(channel, token)
        except DomainError:
            return False
        return True

    async def shown(mine: set[int], event: DomainEvent) -> dict[str, str] | None:
        conversation = event.data.get("conversation_id")
        if not isinstance(conversation, int):
            return None
        # A conversation this visitor started since the stream opened: its first event is
        # their own message, which names the channel (replies' events do not).
        new = conversation not in mine
        if new and event.data.get("channel_id") != visitor.channel_id:
            return None
        async with state.shielded_unit_of_work() as session:
            if new:
                if not await visitors.owns(session, visitor, conversation):
                    return None
                mine.add(conversation)
            message = await visitors.shown_message(
                session, mine, int(event.data.get("message_id") or 0)
            )
        if message is None:
            return None
        return {
            "event": "message",
            "id": str(event.id),
            "data": json.dumps(visitors.as_seen(message), ensure_ascii=False),
        }

    async def events() -> AsyncIterator[dict[str, str]]:
        loop = asyncio.get_running_loop()
        every = state.settings.events_recheck_seconds
        async with state.bus.subscribe() as queue:
            upto = state.feed.last
            after = _resume_from(request)
            missed: list[DomainEvent] | None = []
            async with state.shielded_unit_of_work() as session:
                mine = await visitors.conversation_ids(session, visitor)
                if after is not None and after < upto:
                    missed = await visitors.missed_events(
                        session, after=after, upto=upto, limit=state.settings.events_replay_max
                    )
            ready = {"event": "ready", "data": "{}"}
            if after is None or missed is None:
                ready["id"] = str(upto)
            yield ready
            if missed is None:
                # Too much missed, or pruned: the widget reads its thread again.
                yield {"event": "reset", "id": str(upto), "data": "{}"}
            for past in missed or []:
                if (shown_past := await shown(mine, past)) is not None:
                    yield shown_past
            seen = max(upto, after or 0)
            checked_at = loop.time()
            while True:
                if queue.overflowed and queue.empty():
                    return  # events lost to a slow reader: the widget resumes from its id
                try:
                    wait = max(0.0, checked_at + every - loop.time())
                    event: DomainEvent | None = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    event = None
                if loop.time() >= checked_at + every:
                    if not await still_allowed():
                        yield {"event": "ended", "data": "{}"}
                        return
                    checked_at = loop.time()
                if event is None or event.kind != visitors.MESSAGE_EVENT:
                    continue
                if event.id is None or event.id <= seen:
                    continue
                if (live := await shown(mine, event)) is not None:
                    yield live

    return EventSourceResponse(events(), ping=PING_SECONDS, headers=_cors(origin))
