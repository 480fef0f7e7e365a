"""A prompt's recording (`/admin/phone/prompts/{name}/...`): uploading a WAV (the API's
checks: by content, size-capped, converted to the line's format), going back to the
synthesised words, and listening to it from the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.errors import InvalidInput
from hotline.phoneconfig import service as phoneconfig
from hotline.phoneconfig import uploads
from hotline.phoneconfig.defaults import default_config
from hotline.phoneconfig.pages.edit import item_page
from hotline.web.deps import get_state
from hotline.web.forms import Again, Errors, PageForm, SignedOut, Workspace, signed_in
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]


class VersionForm(PageForm):
    version: str = ""

    def expected_version(self) -> int:
        return int(self.version) if self.version.strip().isdigit() else -1


def _again(request: Request, state: AppState, name: str) -> Again:
    async def again(errors: Errors, status: int) -> Response:
        # A stale version is said at the top of the page, with the reload link.
        if "version" in errors:
            errors = {"form": errors.pop("version"), **errors}
        return await item_page(request, state, "prompt", name, errors=errors, status_code=status)

    return again


@router.post("/admin/phone/prompts/{name}/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    name: str,
    state: StateDep,
    file: Annotated[UploadFile | None, File()] = None,
    csrf: FormText = "",
    version: FormText = "",
) -> Response:
    """A recorded WAV heard instead of the synthesised words."""
    form = VersionForm(csrf=csrf, version=version)

    async def change(session: AsyncSession, actor: Actor) -> str:
        phoneconfig.require_configurer(actor)  # before reading a large body from a non-admin
        if file is None or not file.filename:
            raise InvalidInput("Chọn một tệp WAV", field="file")
        limit = state.settings.prompt_upload_max_bytes
        await uploads.upload_prompt(
            session,
            actor=actor,
            name=name,
            data=await file.read(limit + 1),  # one byte past the cap tells "too big"
            version=form.expected_version(),
            directory=uploads.uploads_dir(state.settings.var_dir),
            max_bytes=limit,
            defaults=default_config(state.settings),
        )
        return f"/admin/phone/prompts/{name}?done=uploaded"

    return await ws.submit(
        request,
        state,
        form,
        change,
        again=_again(request, state, name),
        fallback="file",
        fields=frozenset({"file", "version"}),
    )


@router.post("/admin/phone/prompts/{name}/unupload", response_class=HTMLResponse)
async def unupload(
    request: Request, name: str, state: StateDep, form: Annotated[VersionForm, Form()]
) -> Response:
    """Back to the synthesised words (the file stays: the trail names it by checksum)."""

    async def change(session: AsyncSession, actor: Actor) -> str:
        await uploads.remove_upload(
            session,
            actor=actor,
            name=name,
            version=form.expected_version(),
            defaults=default_config(state.settings),
        )
        return f"/admin/phone/prompts/{name}?done=unuploaded"

    return await ws.submit(
        request,
        state,
        form,
        change,
        again=_again(request, state, name),
        fallback="unupload",
        fields=frozenset({"version"}),
    )


@router.get("/admin/phone/prompts/{name}/audio")
async def audio(request: Request, name: str, state: StateDep) -> Response:
    """The recording the line plays, for the page's <audio> (administrators; signed in by
    the page's session). Sent as an attachment, as every stored upload is."""
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await signed_in(request, state, session)
        except SignedOut as out:
            return out.response
        recording, path = await uploads.prompt_recording(
            session,
            actor=actor,
            name=name,
            directory=uploads.uploads_dir(state.settings.var_dir),
            defaults=default_config(state.settings),
        )
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"loi-nhac-{name}.wav",
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "X-Content-SHA256": recording.sha256},
    )
