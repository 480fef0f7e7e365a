"""Conversations in the workspace: the console's "Tin nhắn" list (`/console/conversations`),
one conversation (`/conversations/{id}`, whole or as the console's panel), its messages for
the live refresh, and the forms that reply, open or link a case and close it.

Thin routes over channels/threads.py and conversations.py (who may see and do what, and the
log of personal reads, are theirs); suggestions come from the assist service the console's
new-case form uses. A reply posted by the page's script answers with the refreshed messages;
posted without it, with a redirect back (303).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.assist.service import suggest_for_draft
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor, get_user
from hotline.channels import conversations, threads
from hotline.channels.saved_replies import fill, list_saved_replies
from hotline.db import utcnow
from hotline.directory.service import list_categories
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.messages import msg
from hotline.staffing import surge
from hotline.web.deps import get_state
from hotline.web.files import kept_file_response
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches, csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]
EXPIRED = msg("Phiên làm việc đã hết hạn, vui lòng thử lại.")


def _safe_next(raw: str, fallback: str) -> str:
    """Back to a page of this site only."""
    return raw if raw.startswith("/") and not raw.startswith("//") and "\\" not in raw else fallback


def _fragment(request: Request) -> bool:
    return request.headers.get("x-hotline-fragment") == "1"


async def _signed_in(request: Request, state: AppState, session: AsyncSession) -> Actor | None:
    actor = await page_actor(request, state, session)
    return actor if actor is not None and actor.user_id is not None else None


def window_left(thread: threads.Thread) -> tuple[int, int] | None:
    """Days and hours left to reply, or None without a window."""
    if thread.window_ends_at is None:
        return None
    seconds = max(0, int((thread.window_ends_at - utcnow()).total_seconds()))
    return seconds // 86400, (seconds % 86400) // 3600


async def thread_context(
    session: AsyncSession, actor: Actor, conversation_id: int, *, suggestions: bool = True
) -> dict[str, Any]:
    """What `channels/_thread.html` shows: the thread, the reply window, saved replies for
    the case's category, and suggestions for the citizen's last text."""
    thread = await threads.thread(session, actor=actor, conversation_id=conversation_id)
    saved = []
    if allows(actor, Permission.REPLY_TO_CITIZENS):
        saved = [
            (r, fill(r.text, thread.case_code))
            for r in await list_saved_replies(session, actor=actor, category=thread.case_category)
        ]
    found = None
    text = thread.last_inbound_text
    if suggestions and text and allows(actor, Permission.USE_SUGGESTIONS):
        found = await suggest_for_draft(session, actor=actor, text=text, limit=3)
    return {
        "thread": thread,
        "left": window_left(thread),
        "saved_replies": saved,
        "suggestions": found,
        "category_list": await list_categories(session),
        "description": "\n".join(
            m.text.strip() for m in thread.messages if m.direction == "in" and m.text.strip()
        ),
    }


@router.get("/console/conversations", response_class=HTMLResponse)
async def rows(request: Request, state: StateDep) -> Response:
    """The console's message list, by the filters of its form (channel, status; `audience`
    "staff" lists the hotline's texts to its own people instead of citizens')."""
    params = request.query_params
    async with state.unit_of_work() as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        if not allows(actor, Permission.READ_CONTACTS):
            return Response(status_code=404)
        channel = params.get("channel", "")
        error = None
        try:
            found = await threads.inbox_rows(
                session,
                actor=actor,
                channel_id=int(channel) if channel.isdigit() else None,
                status=params.get("status", "open"),
                audience=params.get("audience", "citizen"),
            )
        except DomainError as exc:
            found, error = [], exc.detail
    return templates.TemplateResponse(
        request,
        "channels/_rows.html",
        {"rows": found, "error": error, "tz": state.site.timezone, "current": None},
    )


async def _render(
    request: Request,
    state: AppState,
    conversation_id: int,
    *,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
    action: str | None = None,
) -> Response:
    panel = request.query_params.get("panel") == "1"
    async with state.unit_of_work() as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return (
                RedirectResponse("/login", status_code=303)
                if not panel
                else Response(status_code=401)
            )
        assert actor.user_id is not None
        base = {
            "user": await get_user(session, actor.user_id),
            "csrf": csrf_token(request),
            "nav": nav_for(actor),
            "tz": state.site.timezone,
        }
        try:
            context = await thread_context(session, actor, conversation_id)
        except NotFound as exc:
            return templates.TemplateResponse(
                request,
                "channels/not_found.html",
                {**base, "message": exc.detail},
                status_code=404,
            )
    context.update(
        base,
        error=error.detail if error else None,
        failed=action,
        typed=typed or {},
        done=request.query_params.get("done"),
        back=_safe_next(request.query_params.get("back", ""), f"/conversations/{conversation_id}"),
    )
    name = "channels/_thread.html" if panel else "channels/conversation.html"
    return templates.TemplateResponse(
        request, name, context, status_code=error.status if error else 200
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, conversation_id: int, state: StateDep) -> Response:
    """One conversation: its page, or (`?panel=1`) the console's panel of it."""
    return await _render(request, state, conversation_id)


@router.get("/conversations/{conversation_id}/messages", response_class=HTMLResponse)
async def messages(request: Request, conversation_id: int, state: StateDep) -> Response:
    """The thread's messages alone, for the live refresh (what is typed stays)."""
    async with state.unit_of_work() as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        thread = await threads.thread(session, actor=actor, conversation_id=conversation_id)
    return templates.TemplateResponse(
        request, "channels/_messages.html", {"thread": thread, "tz": state.site.timezone}
    )


@router.get("/conversations/{conversation_id}/files/{message_id}/{index}")
async def download_file(
    request: Request, conversation_id: int, message_id: int, index: int, state: StateDep
) -> Response:
    """A file a citizen's e-mail brought, from the thread's link; a logged read."""
    async with state.unit_of_work() as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        kept = await conversations.read_file(
            session,
            actor=actor,
            conversation_id=conversation_id,
            message_id=message_id,
            index=index,
        )
    return kept_file_response(state.site.attachments_dir, kept)


@router.post("/conversations/{conversation_id}/segments", response_class=HTMLResponse)
async def segments_preview(
    request: Request,
    conversation_id: int,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    text: FormText = "",
) -> Response:
    """The SMS count of the reply being typed, for the reply box (the page's script asks
    as the operator types): a short fragment, empty off SMS."""
    if not csrf_matches(request, csrf) or refused:
        return Response(status_code=400)
    async with state.unit_of_work(read_only=True) as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        found = await conversations.reply_segments(
            session, actor=actor, conversation_id=conversation_id, text=text
        )
    return templates.TemplateResponse(request, "channels/_segments.html", {"found": found})


@router.post("/conversations/{conversation_id}/reply", response_class=HTMLResponse)
async def reply(
    request: Request,
    conversation_id: int,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    text: FormText = "",
    key: FormText = "",
    back: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """A reply through the outbox (queued; the worker sends it). `key` makes a repeated post
    (a double press, a retry) the same reply."""
    error: DomainError
    if not csrf_matches(request, csrf):
        error = InvalidInput(EXPIRED, field="csrf")
    elif refused:
        error = InvalidInput(next(iter(refused.values())), field="text")
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await _signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                await conversations.reply(
                    session,
                    actor=actor,
                    conversation_id=conversation_id,
                    text=text,
                    key=key.strip()[:100] or None,
                )
            if _fragment(request):
                return await messages(request, conversation_id, state)
            return RedirectResponse(
                _safe_next(back, f"/conversations/{conversation_id}?done=reply"), status_code=303
            )
        except NotFound as exc:
            if exc.field == "conversation_id":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    if _fragment(request):
        return templates.TemplateResponse(
            request, "channels/_error.html", {"error": error.detail}, status_code=error.status
        )
    return await _render(
        request,
        state,
        conversation_id,
        error=error,
        typed={"text": without_nul(text)},
        action="reply",
    )


async def _act(
    request: Request,
    state: AppState,
    conversation_id: int,
    csrf: str,
    action: str,
    change: Any,
    typed: dict[str, str],
) -> Response:
    """One action's form post: done, the redirect it names; refused, the page again with
    the reason and what was typed."""
    error: DomainError
    if not csrf_matches(request, csrf):
        error = InvalidInput(EXPIRED, field="csrf")
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await _signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                location = await change(session, actor)
            return RedirectResponse(location, status_code=303)
        except NotFound as exc:
            if exc.field == "conversation_id":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    return await _render(request, state, conversation_id, error=error, typed=typed, action=action)


@router.post("/conversations/{conversation_id}/case", response_class=HTMLResponse)
async def open_case(
    request: Request,
    conversation_id: int,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    description: FormText = "",
    category: FormText = "",
    urgent: FormText = "",
) -> Response:
    """Open a case from the conversation (its page follows); the channel's acknowledgement,
    if it wants one, is queued with it."""
    typed = {"description": without_nul(description), "category": category}

    async def change(session: AsyncSession, actor: Actor) -> str:
        if refused:
            raise InvalidInput(next(iter(refused.values())), field="description")
        case = await conversations.open_case_from(
            session,
            actor=actor,
            conversation_id=conversation_id,
            description=description,
            category=category.strip() or None,
            urgent=urgent == "1",
            wait_minutes=await surge.ack_wait_minutes(session),
        )
        return f"/cases/{case.code}"

    return await _act(request, state, conversation_id, csrf, "case", change, typed)


@router.post("/conversations/{conversation_id}/link", response_class=HTMLResponse)
async def link(
    request: Request,
    conversation_id: int,
    state: StateDep,
    csrf: FormText = "",
    case: FormText = "",
    back: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Join the conversation to an existing case, by its code."""

    async def change(session: AsyncSession, actor: Actor) -> str:
        code = case.strip().upper()
        if not code:
            raise InvalidInput(msg("Nhập mã yêu cầu"), field="case")
        await conversations.link_case(
            session, actor=actor, conversation_id=conversation_id, case_code=code
        )
        return _safe_next(back, f"/conversations/{conversation_id}?done=linked")

    return await _act(request, state, conversation_id, csrf, "link", change, {"case": case})


@router.post("/conversations/{conversation_id}/close", response_class=HTMLResponse)
async def close(
    request: Request,
    conversation_id: int,
    state: StateDep,
    csrf: FormText = "",
    back: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Close it: the citizen's next message starts a new conversation."""

    async def change(session: AsyncSession, actor: Actor) -> str:
        await conversations.close_conversation(
            session, actor=actor, conversation_id=conversation_id
        )
        return _safe_next(back, f"/conversations/{conversation_id}?done=closed")

    return await _act(request, state, conversation_id, csrf, "close", change, {})
