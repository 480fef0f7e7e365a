"""JSON routes for channels (administrators), providers' webhooks, and conversations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases.models import Case
from hotline.channels import admin, conversations, inbox, inbox_pg, saved_replies
from hotline.channels.schemas import (
    CaseFromConversationIn,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    ConversationDetail,
    ConversationOut,
    ConversationPageOut,
    LinkIn,
    MessageOut,
    ReplyIn,
    SavedReplyIn,
    SavedReplyOut,
    SavedReplyPatch,
    SegmentsIn,
    SegmentsOut,
)
from hotline.errors import NotFound
from hotline.messages import msg
from hotline.staffing import surge
from hotline.types import Id
from hotline.web.deps import current_actor, get_state
from hotline.web.files import kept_file_response
from hotline.web.inputs import refuse_unstorable_input
from hotline.web.routes import DirectRoute
from hotline.web.state import AppState

router = APIRouter(tags=["channels"])
saved_router = APIRouter(prefix="/api/v1/saved-replies", tags=["saved replies"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


async def _registered(out: ChannelOut, registration: admin.Registration | None) -> ChannelOut:
    """After the commit: the webhook registered with the provider (Viber), its outcome in
    the answer."""
    if registration is not None:
        out.webhook = await admin.register_webhook(registration)
    return out


@router.post("/api/v1/channels", status_code=201)
async def create_channel(body: ChannelIn, actor: ActorDep, state: StateDep) -> ChannelOut:
    public_url = state.settings.public_url
    async with state.unit_of_work() as session:
        channel = await admin.create_channel(
            session,
            actor=actor,
            kind=body.kind,
            name=body.name,
            settings=body.settings,
            public_url=public_url,
        )
        out = ChannelOut.of(channel)
        registration = admin.registration_for(channel, public_url)
    return await _registered(out, registration)


@router.get("/api/v1/channels")
async def list_channels(actor: ActorDep, state: StateDep) -> list[ChannelOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [ChannelOut.of(c) for c in await admin.list_channels(session, actor=actor)]


@router.get("/api/v1/channels/{channel_id}")
async def get_channel(channel_id: Id, actor: ActorDep, state: StateDep) -> ChannelOut:
    async with state.unit_of_work(read_only=True) as session:
        return ChannelOut.of(await admin.get_channel(session, actor=actor, channel_id=channel_id))


@router.patch("/api/v1/channels/{channel_id}")
async def update_channel(
    channel_id: Id, body: ChannelPatch, actor: ActorDep, state: StateDep
) -> ChannelOut:
    async with state.unit_of_work() as session:
        channel, registration = await admin.update_channel(
            session,
            actor=actor,
            channel_id=channel_id,
            name=body.name,
            settings=body.settings,
            enabled=body.enabled,
            public_url=state.settings.public_url,
        )
        out = ChannelOut.of(channel)
    return await _registered(out, registration)


@router.post("/api/v1/channels/{channel_id}/disable")
async def disable_channel(channel_id: Id, actor: ActorDep, state: StateDep) -> ChannelOut:
    async with state.unit_of_work() as session:
        channel, _ = await admin.update_channel(
            session, actor=actor, channel_id=channel_id, enabled=False
        )
        return ChannelOut.of(channel)


@router.post("/api/v1/channels/{channel_id}/register-webhook")
async def register_webhook(channel_id: Id, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    """Register the channel's hook with its provider again (Viber; administrators): 200
    with the URL, or 502 with the provider's reason."""
    async with state.unit_of_work(read_only=True) as session:
        registration = await admin.registration(
            session, actor=actor, channel_id=channel_id, public_url=state.settings.public_url
        )
    result = await admin.register_webhook(registration)
    if not result["registered"]:
        raise admin.ProviderRefused(
            msg("Nhà cung cấp từ chối đăng ký webhook: {reason}", reason=result["error"]),
            field="webhook",
        )
    return result


_CHANNEL_ID: TypeAdapter[int] = TypeAdapter(Id)


def _channel_id(request: Request) -> int:
    """The path's channel id, refused with the 422 FastAPI would give."""
    raw = request.path_params["channel_id"]
    # Parsed by hand in the common case (a webhook's path is served before routing,
    # web/routes.py); anything else is left to pydantic for its exact answer.
    if 0 < len(raw) < 19 and raw.isascii() and raw.isdigit() and raw[0] != "0":
        return int(raw)
    try:
        return _CHANNEL_ID.validate_python(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("path", "channel_id")} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


# The providers' hooks, served before FastAPI's routing (app.py, web/routes.py):
# dependency solving and matching every route before them cost more than storing a known
# citizen's message.
hooks_router = APIRouter(tags=["channels"], route_class=DirectRoute)


@hooks_router.api_route("/hooks/{channel_id}", methods=["GET", "POST"], include_in_schema=False)
async def hook(request: Request) -> Response:
    """A provider's webhook: the raw body is read first and the adapter checks its
    signature before anything is stored (the request guard lets it in without a session
    and caps its body)."""
    channel_id = _channel_id(request)  # its path parameter's only check
    if request.scope["query_string"]:
        await refuse_unstorable_input(request)
    state: AppState = request.app.state.hotline
    body = await request.body()
    result = await inbox_pg.receive_autocommit(
        await state.hooks_writer(),
        database=state.database,
        channel_id=channel_id,
        method=request.method,
        query=request.query_params,
        headers=request.headers,
        body=body,
        wake=state.waker,
    )
    if result is None:
        async with state.unit_of_work() as session:
            result = await inbox.receive(
                session,
                channel_id=channel_id,
                method=request.method,
                query=dict(request.query_params),
                headers=request.headers,
                body=body,
            )
    reply = result.reply
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type)


async def _codes(session: AsyncSession, case_ids: set[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    rows = await session.execute(select(Case.id, Case.code).where(Case.id.in_(case_ids)))
    return {i: c for i, c in rows.all()}


@router.get("/api/v1/conversations")
async def list_conversations(
    actor: ActorDep,
    state: StateDep,
    channel: Id | None = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    contact: Id | None = None,
    case: Annotated[str | None, Query(max_length=20)] = None,
    audience: Annotated[str, Query(max_length=10)] = "citizen",
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPageOut:
    async with state.unit_of_work() as session:
        page = await conversations.list_conversations(
            session,
            actor=actor,
            channel_id=channel,
            status=status,
            contact_id=contact,
            case_code=case,
            audience=audience,
            cursor=cursor,
            limit=limit,
        )
        codes = await _codes(session, {c.case_id for c, _ in page.items if c.case_id})
        return ConversationPageOut(
            items=[ConversationOut.of(c, ch, codes.get(c.case_id or 0)) for c, ch in page.items],
            next_cursor=page.next_cursor,
        )


async def _detail(session: AsyncSession, actor: Actor, conversation_id: int) -> dict[str, Any]:
    conversation, channel, messages = await conversations.read_conversation(
        session, actor=actor, conversation_id=conversation_id
    )
    codes = await _codes(session, {conversation.case_id} if conversation.case_id else set())
    out = ConversationOut.of(conversation, channel, codes.get(conversation.case_id or 0))
    return ConversationDetail(
        **out.model_dump(), messages=[MessageOut.of(m) for m in messages]
    ).model_dump(mode="json")


@router.get("/api/v1/conversations/{conversation_id}", response_model=ConversationDetail)
async def get_conversation(conversation_id: Id, actor: ActorDep, state: StateDep) -> Any:
    async with state.unit_of_work() as session:
        return await _detail(session, actor, conversation_id)


@router.post("/api/v1/conversations/{conversation_id}/messages", status_code=202)
async def reply(conversation_id: Id, body: ReplyIn, actor: ActorDep, state: StateDep) -> MessageOut:
    async with state.unit_of_work() as session:
        message = await conversations.reply(
            session,
            actor=actor,
            conversation_id=conversation_id,
            text=body.text,
            key=body.idempotency_key,
        )
        return MessageOut.of(message)


@router.get("/api/v1/conversations/{conversation_id}/messages/{message_id}/files/{index}")
async def download_file(
    conversation_id: Id, message_id: Id, index: int, actor: ActorDep, state: StateDep
) -> FileResponse:
    """A file a citizen's e-mail brought (kept by the attachments domain); a logged read."""
    async with state.unit_of_work() as session:
        kept = await conversations.read_file(
            session,
            actor=actor,
            conversation_id=conversation_id,
            message_id=message_id,
            index=index,
        )
    return kept_file_response(state.site.attachments_dir, kept)


@router.post("/api/v1/conversations/{conversation_id}/segments", response_model=SegmentsOut)
async def reply_segments(
    conversation_id: Id, body: SegmentsIn, actor: ActorDep, state: StateDep
) -> Any:
    """How a reply would go out by SMS (encoding, parts, the text the gateway gets): 404
    for a conversation on another channel. Writes nothing."""
    async with state.unit_of_work(read_only=True) as session:
        found = await conversations.reply_segments(
            session, actor=actor, conversation_id=conversation_id, text=body.text
        )
    if found is None:
        raise NotFound(msg("Cuộc hội thoại này không qua SMS"), field="conversation_id")
    return SegmentsOut(encoding=found.encoding, segments=found.parts, text=found.text)


@router.post("/api/v1/conversations/{conversation_id}/case", status_code=201)
async def open_case(
    conversation_id: Id, body: CaseFromConversationIn, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        case = await conversations.open_case_from(
            session,
            actor=actor,
            conversation_id=conversation_id,
            description=body.description,
            category=body.category,
            urgent=body.urgent,
            ward_code=body.ward_code,
            address=body.address,
            wait_minutes=await surge.ack_wait_minutes(session),
        )
        return {"code": case.code, "conversation_id": conversation_id}


@router.post("/api/v1/conversations/{conversation_id}/link", response_model=ConversationOut)
async def link_case(conversation_id: Id, body: LinkIn, actor: ActorDep, state: StateDep) -> Any:
    async with state.unit_of_work() as session:
        conversation, channel, case = await conversations.link_case(
            session, actor=actor, conversation_id=conversation_id, case_code=body.case
        )
        return ConversationOut.of(conversation, channel, case.code)


@router.post("/api/v1/conversations/{conversation_id}/close", response_model=ConversationOut)
async def close(conversation_id: Id, actor: ActorDep, state: StateDep) -> Any:
    async with state.unit_of_work() as session:
        conversation, channel = await conversations.close_conversation(
            session, actor=actor, conversation_id=conversation_id
        )
        return ConversationOut.of(conversation, channel)


@router.get("/api/v1/cases/{code}/conversations")
async def conversations_of_case(
    code: str, actor: ActorDep, state: StateDep
) -> list[ConversationOut]:
    async with state.unit_of_work() as session:
        page = await conversations.list_conversations(
            session, actor=actor, case_code=code, audience=None, limit=200
        )
        codes = await _codes(session, {c.case_id for c, _ in page.items if c.case_id})
        return [ConversationOut.of(c, ch, codes.get(c.case_id or 0)) for c, ch in page.items]


@saved_router.get("")
async def list_saved_replies(
    actor: ActorDep,
    state: StateDep,
    category: Annotated[str | None, Query(max_length=40)] = None,
    every: Annotated[bool, Query(alias="all")] = False,
) -> list[SavedReplyOut]:
    """Those of `category` and those for every category; `all=true`: every one."""
    async with state.unit_of_work(read_only=True) as session:
        found = await saved_replies.list_saved_replies(
            session, actor=actor, category=category, every=every
        )
        return [SavedReplyOut.of(r) for r in found]


@saved_router.post("", status_code=201)
async def create_saved_reply(body: SavedReplyIn, actor: ActorDep, state: StateDep) -> SavedReplyOut:
    async with state.unit_of_work() as session:
        reply = await saved_replies.create_saved_reply(
            session, actor=actor, category=body.category, title=body.title, text=body.text
        )
        return SavedReplyOut.of(reply)


@saved_router.get("/{reply_id}")
async def get_saved_reply(reply_id: Id, actor: ActorDep, state: StateDep) -> SavedReplyOut:
    async with state.unit_of_work(read_only=True) as session:
        return SavedReplyOut.of(
            await saved_replies.get_saved_reply(session, actor=actor, reply_id=reply_id)
        )


@saved_router.patch("/{reply_id}")
async def update_saved_reply(
    reply_id: Id, body: SavedReplyPatch, actor: ActorDep, state: StateDep
) -> SavedReplyOut:
    every = "category" in body.model_fields_set and body.category is None
    async with state.unit_of_work() as session:
        reply = await saved_replies.update_saved_reply(
            session,
            actor=actor,
            reply_id=reply_id,
            category=body.category,
            title=body.title,
            text=body.text,
            every_category=every,
        )
        return SavedReplyOut.of(reply)


@saved_router.delete("/{reply_id}", status_code=204)
async def delete_saved_reply(reply_id: Id, actor: ActorDep, state: StateDep) -> Response:
    async with state.unit_of_work() as session:
        await saved_replies.delete_saved_reply(session, actor=actor, reply_id=reply_id)
    return Response(status_code=204)
