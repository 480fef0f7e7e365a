"""`GET /api/v1/calls/{id}/recording`: the WAV file, as an attachment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from hotline.auth.service import Actor
from hotline.recordings import service
from hotline.types import Id
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


@router.get("/{call_id}/recording")
async def download_recording(call_id: Id, actor: ActorDep, state: StateDep) -> FileResponse:
    async with state.unit_of_work() as session:
        recording, path = await service.get_recording_for(
            session,
            actor=actor,
            call_id=call_id,
            directory=service.recordings_dir(state.settings.var_dir),
        )
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"cuoc-goi-{call_id}.wav",
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "X-Content-SHA256": recording.sha256},
    )
