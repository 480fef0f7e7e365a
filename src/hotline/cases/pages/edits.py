"""The case page's forms besides the workflow actions: merging duplicates into the case and
adding a note or a reply (the rules are in duplicates/merge.py and cases/notes.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.cases import notes
from hotline.cases.access import get_case_for
from hotline.cases.pages import FormText, StateDep, form_refusal, render_case, signed_in
from hotline.duplicates.merge import merge_cases
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.knowledge.access import get_article_for
from hotline.knowledge.suggest import record_article_used
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches

router = APIRouter(include_in_schema=False)


@router.post("/cases/{code}/merge", response_class=HTMLResponse)
async def merge(
    request: Request,
    code: str,
    state: StateDep,
    csrf: FormText = "",
    expected_version: FormText = "",
    duplicates: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Merge the suggested duplicates the user ticked into this case (duplicates/merge.py,
    as POST /api/v1/duplicates/merge does)."""
    error: DomainError
    if not csrf_matches(request, csrf):
        error = InvalidInput("Phiên làm việc đã hết hạn, vui lòng thử lại.", field="csrf")
    elif not expected_version.isdigit():
        error = InvalidInput("Trang đã cũ, hãy tải lại", field="expected_version")
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                result = await merge_cases(
                    session,
                    actor=actor,
                    primary_code=code,
                    duplicate_codes=duplicates or [],
                    expected_version=int(expected_version),
                )
                code = result.primary.code
            return RedirectResponse(f"/cases/{code}?done=merge", status_code=303)
        except NotFound as exc:
            if exc.field == "primary":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    return await render_case(request, state, code, error=error, action="merge")


@router.post("/cases/{code}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request,
    code: str,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    text: FormText = "",
    visibility: FormText = "internal",
    article_id: FormText = "",
) -> Response:
    """An internal note or a reply to the citizen (cases/notes.py, as the API's notes
    route); a reply made from a knowledge-base answer counts its use, as resolving does."""
    typed = {"text": without_nul(text), "article_id": without_nul(article_id)}
    error: DomainError
    if not csrf_matches(request, csrf):
        error = InvalidInput("Phiên làm việc đã hết hạn, vui lòng thử lại.", field="csrf")
    elif refused:
        error = form_refusal(refused)
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                note = await notes.add_note(
                    session, actor=actor, code=code, text=text, visibility=visibility
                )
                if note.visibility == notes.Visibility.REPLY and article_id.strip().isdigit():
                    case = await get_case_for(session, actor, code)
                    article = await get_article_for(session, actor, int(article_id))
                    await record_article_used(session, actor=actor, case=case, article=article)
            done = "reply" if note.visibility == notes.Visibility.REPLY else "note"
            return RedirectResponse(f"/cases/{note.case}?done={done}", status_code=303)
        except NotFound as exc:
            if exc.field == "code":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    return await render_case(request, state, code, error=error, action="note", typed=typed)
