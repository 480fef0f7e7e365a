"""Saved replies (`/admin/saved-replies`): the texts operators insert in a conversation's
reply box, per category, kept by supervisors and administrators through
channels/saved_replies.py (which checks who may, and audits each change)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.channels import saved_replies
from hotline.directory.service import list_categories
from hotline.web.deps import get_state
from hotline.web.forms import Errors, PageForm, Workspace, last_by_key
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


class SavedReplyForm(PageForm):
    category: str = ""
    title: str = ""
    text: str = ""


class DeleteForm(PageForm):
    pass


async def _page(
    request: Request,
    state: AppState,
    *,
    failed: str | None = None,
    errors: Errors | None = None,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        require(actor, Permission.EDIT_KNOWLEDGE, saved_replies.REFUSED)
        return {
            "rows": await saved_replies.list_saved_replies(session, actor=actor, every=True),
            "categories": await list_categories(session),
            "failed": failed,
            "last": await last_by_key(session, actor, "saved_reply"),
            "placeholder": saved_replies.CASE_CODE,
        }

    return await ws.page(
        request,
        state,
        "admin/saved_replies.html",
        load,
        errors=errors,
        typed=typed,
        status_code=status_code,
    )


@router.get("/admin/saved-replies", response_class=HTMLResponse)
async def page(request: Request, state: StateDep) -> Response:
    return await _page(request, state)


@router.post("/admin/saved-replies", response_class=HTMLResponse)
async def create(
    request: Request, state: StateDep, form: Annotated[SavedReplyForm, Form()]
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> str:
        reply = await saved_replies.create_saved_reply(
            session, actor=actor, category=form.category, title=form.title, text=form.text
        )
        return f"/admin/saved-replies?done=created#reply-{reply.id}"

    async def again(errors: Errors, status: int) -> Response:
        return await _page(
            request, state, failed="new", errors=errors, typed=form.typed(), status_code=status
        )

    return await ws.submit(request, state, form, change, again=again, fallback="title")


@router.post("/admin/saved-replies/{reply_id}", response_class=HTMLResponse)
async def update(
    request: Request, reply_id: int, state: StateDep, form: Annotated[SavedReplyForm, Form()]
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> str:
        await saved_replies.update_saved_reply(
            session,
            actor=actor,
            reply_id=reply_id,
            category=form.category.strip() or None,
            every_category=not form.category.strip(),
            title=form.title,
            text=form.text,
        )
        return f"/admin/saved-replies?done=saved#reply-{reply_id}"

    async def again(errors: Errors, status: int) -> Response:
        return await _page(
            request,
            state,
            failed=str(reply_id),
            errors=errors,
            typed=form.typed(),
            status_code=status,
        )

    return await ws.submit(
        request, state, form, change, again=again, fallback="title", missing="reply_id"
    )


@router.post("/admin/saved-replies/{reply_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request, reply_id: int, state: StateDep, form: Annotated[DeleteForm, Form()]
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> str:
        await saved_replies.delete_saved_reply(session, actor=actor, reply_id=reply_id)
        return "/admin/saved-replies?done=deleted"

    async def again(errors: Errors, status: int) -> Response:
        return await _page(request, state, failed=str(reply_id), errors=errors, status_code=status)

    return await ws.submit(
        request, state, form, change, again=again, fallback="title", missing="reply_id"
    )
