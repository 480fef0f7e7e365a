"""Triage model versions (`/admin/triage`): their figures side by side, training a new one,
choosing the one in use (triage.service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import audit
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.cases.training import history_examples
from hotline.directory.service import category_names
from hotline.triage import service as triage
from hotline.web.deps import get_state
from hotline.web.forms import Errors, PageForm, Workspace, last_by_key, trail
from hotline.web.i18n import language_of
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


@router.get("/admin/triage", response_class=HTMLResponse)
async def triage_models(request: Request, state: StateDep) -> Response:
    return await _triage_page(request, state)


async def _triage_page(
    request: Request, state: AppState, *, error: str | None = None, status_code: int = 200
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        models = await triage.list_models(session, actor=actor)
        rows = [
            {
                "version": m.version,
                "created_at": m.created_at,
                "created_by": m.created_by,
                "active": m.active,
                "trained_on": m.trained_on or {},
                "metrics": m.metrics or {},
            }
            for m in models
        ]
        return {
            "models": rows,
            "category_names": await category_names(session, language=language_of(request)),
            "can_manage": allows(actor, Permission.MANAGE_TRIAGE_MODELS),
            "error": error,
            "last": await last_by_key(session, actor, "triage_model"),
            "activations": await trail(
                session,
                await audit.list_changes(session, actor=actor, kind="triage_model", limit=50),
            ),
        }

    return await ws.page(request, state, "admin/triage.html", load, status_code=status_code)


async def _again(request: Request, state: AppState, errors: Errors, status: int) -> Response:
    return await _triage_page(request, state, error=errors["form"], status_code=status)


@router.post("/admin/triage/train", response_class=HTMLResponse)
async def train(request: Request, state: StateDep, form: Annotated[PageForm, Form()]) -> Response:
    """Train a new version as `hotline triage train` does (corpus + confirmed history); the
    fit runs in a worker thread (triage.service), the request waits for it."""

    async def change(session: AsyncSession, actor: Actor) -> str:
        row = await triage.train_model(
            session, actor=actor, history=await history_examples(session)
        )
        return f"/admin/triage?done=trained-{row.version}"

    async def again(errors: Errors, status: int) -> Response:
        return await _again(request, state, errors, status)

    return await ws.submit(request, state, form, change, again=again)


@router.post("/admin/triage/{version}/activate", response_class=HTMLResponse)
async def activate(
    request: Request, version: int, state: StateDep, form: Annotated[PageForm, Form()]
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> str:
        await triage.activate_model(session, actor=actor, version=version)
        return f"/admin/triage?done=activated-{version}"

    async def again(errors: Errors, status: int) -> Response:
        return await _again(request, state, errors, status)

    return await ws.submit(request, state, form, change, again=again)
