"""The case API's workflow actions (take, forward, accept, return, resolve, close, reject,
reopen, duplicate) and a case's files. The rules are in workflow.py and attachments."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile
from fastapi.responses import FileResponse

from hotline.attachments import service as attachments
from hotline.cases import workflow
from hotline.cases.access import get_case_for
from hotline.cases.api.deps import ActorDep, StateDep, case_out
from hotline.cases.models import Case
from hotline.cases.schemas import (
    AssignmentOut,
    CaseOut,
    CloseIn,
    DuplicateIn,
    ForwardIn,
    ReasonIn,
    ResolveIn,
    VersionIn,
)
from hotline.db import utcnow
from hotline.types import Id

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.post("/{code}/take", response_model=CaseOut)
async def take(
    code: str, actor: ActorDep, state: StateDep, body: VersionIn | None = None
) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        expected = body.expected_version if body else None
        return await case_out(
            session,
            actor,
            await workflow.take_case(session, actor=actor, case=case, expected_version=expected),
        )


@router.post("/{code}/forward", response_model=AssignmentOut, status_code=201)
async def forward(code: str, body: ForwardIn, actor: ActorDep, state: StateDep) -> AssignmentOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        assignment = await workflow.forward_case(
            session,
            actor=actor,
            case=case,
            unit_id=body.unit_id,
            note=body.note,
            deadline_hours=body.deadline_hours,
            expected_version=body.expected_version,
        )
        return AssignmentOut.of(assignment, utcnow())


@router.post("/{code}/accept", response_model=CaseOut)
async def accept(
    code: str, actor: ActorDep, state: StateDep, body: VersionIn | None = None
) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        expected = body.expected_version if body else None
        return await case_out(
            session,
            actor,
            await workflow.accept_case(session, actor=actor, case=case, expected_version=expected),
        )


@router.post("/{code}/return", response_model=CaseOut)
async def return_(code: str, body: ReasonIn, actor: ActorDep, state: StateDep) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        return await case_out(
            session,
            actor,
            await workflow.return_case(
                session,
                actor=actor,
                case=case,
                reason=body.reason,
                expected_version=body.expected_version,
            ),
        )


@router.post("/{code}/resolve", response_model=CaseOut)
async def resolve(code: str, body: ResolveIn, actor: ActorDep, state: StateDep) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        return await case_out(
            session,
            actor,
            await workflow.resolve_case(
                session,
                actor=actor,
                case=case,
                answer=body.answer,
                expected_version=body.expected_version,
            ),
        )


@router.post("/{code}/close", response_model=CaseOut)
async def close(
    code: str, actor: ActorDep, state: StateDep, body: CloseIn | None = None
) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        note = body.note if body else ""
        expected = body.expected_version if body else None
        return await case_out(
            session,
            actor,
            await workflow.close_case(
                session, actor=actor, case=case, note=note, expected_version=expected
            ),
        )


@router.post("/{code}/reject", response_model=CaseOut)
async def reject(code: str, body: ReasonIn, actor: ActorDep, state: StateDep) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        return await case_out(
            session,
            actor,
            await workflow.reject_case(
                session,
                actor=actor,
                case=case,
                reason=body.reason,
                expected_version=body.expected_version,
            ),
        )


@router.post("/{code}/reopen", response_model=CaseOut)
async def reopen(code: str, body: ReasonIn, actor: ActorDep, state: StateDep) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        return await case_out(
            session,
            actor,
            await workflow.reopen_case(
                session,
                actor=actor,
                case=case,
                reason=body.reason,
                expected_version=body.expected_version,
            ),
        )


@router.post("/{code}/duplicate", response_model=CaseOut)
async def duplicate(code: str, body: DuplicateIn, actor: ActorDep, state: StateDep) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        await workflow.mark_duplicate(
            session,
            actor=actor,
            case=case,
            original_code=body.original_code,
            expected_version=body.expected_version,
        )
        original = await session.get(Case, case.duplicate_of_id)
        return await case_out(session, actor, case, original.code if original else None)


@router.post("/{code}/attachments", status_code=201)
async def upload(
    code: str, file: UploadFile, actor: ActorDep, state: StateDep
) -> dict[str, object]:
    limit = state.site.attachment_max_bytes
    # Read one byte past the limit: enough to know it is too big without holding a huge body.
    data = await file.read(limit + 1)
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code, write=True)
        a = await attachments.add_attachment(
            session, actor=actor, case=case, filename=file.filename or "", data=data
        )
        return {
            "id": a.id,
            "filename": a.filename,
            "media_type": a.media_type,
            "size": a.size,
            "sha256": a.sha256,
        }


@router.get("/{code}/attachments/{attachment_id}")
async def download(code: str, attachment_id: Id, actor: ActorDep, state: StateDep) -> FileResponse:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        a, path = await attachments.get_attachment(
            session, actor=actor, case=case, attachment_id=attachment_id
        )
    inline = a.media_type in attachments.IMAGE_TYPES
    return FileResponse(
        path,
        media_type=a.media_type,
        filename=a.filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )
