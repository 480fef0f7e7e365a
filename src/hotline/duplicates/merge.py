"""Merging repeats of one event into a primary case, in one action and one transaction.

Each duplicate goes through the case workflow's own `link_duplicate` step, as a single
marking does, so the transition table, the timeline and the live events stay the same.
Every member is checked before anything is written; the unit of work rolls back whole if a
write still fails, so a merge never half-happens. The primary's row is held for the whole
merge, so answering it at the same moment waits for the merge and shares the answer with
the merged cases instead of missing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.cases import sharing, timeline, workflow
from hotline.cases.access import get_case_for
from hotline.cases.codes import normalise_code
from hotline.cases.medical import check_not_merged
from hotline.cases.models import Case, CaseStatus
from hotline.cases.transitions import STATUS_LABELS_VI, TRANSITIONS, Action
from hotline.cases.versions import check_version
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import Message, msg

MAX_MERGE = 200
# A primary must still stand for the event: ended-as-spam or itself a repeat cannot.
PRIMARY_REFUSED = frozenset({CaseStatus.REJECTED, CaseStatus.DUPLICATE})


def can_merge_into(actor: Actor, primary: Case) -> bool:
    """Whether `merge_cases` would take `primary` from this actor (the case page's button)."""
    return allows(actor, Permission.MERGE_DUPLICATES) and primary.status not in PRIMARY_REFUSED


@dataclass
class MergeResult:
    primary: Case
    merged: list[Case]
    repointed: list[Case] = field(default_factory=list)
    notifications: int = 0


def _codes(primary_code: str, duplicate_codes: list[str]) -> tuple[str, list[str]]:
    primary = normalise_code(primary_code)
    if primary is None:
        raise NotFound(msg("Không có yêu cầu mã {code}", code=primary_code), field="primary")
    if not duplicate_codes:
        raise InvalidInput("Chọn ít nhất một yêu cầu trùng để gộp", field="duplicates")
    if len(duplicate_codes) > MAX_MERGE:
        raise InvalidInput(
            msg("Gộp tối đa {max_merge} yêu cầu một lần", max_merge=MAX_MERGE), field="duplicates"
        )
    out: list[str] = []
    for raw in duplicate_codes:
        code = normalise_code(raw)
        if code is None:
            raise NotFound(msg("Không có yêu cầu mã {code}", code=raw), field="duplicates")
        if code == primary:
            raise InvalidInput(
                msg("Yêu cầu gốc {code} không thể trùng với chính nó", code=raw), field="duplicates"
            )
        if code not in out:
            out.append(code)
    return primary, out


async def merge_cases(
    session: AsyncSession,
    *,
    actor: Actor,
    primary_code: str,
    duplicate_codes: list[str],
    note: str = "",
    expected_version: int | None = None,
) -> MergeResult:
    """Mark every listed case as a duplicate of the primary, or none of them.

    Cases already merged into a listed duplicate follow it to the new primary. The primary's
    timeline lists the merged reporters; if the primary is already answered, the merged
    cases get the answer and their reporters a notification job at once.
    """
    require(actor, Permission.MERGE_DUPLICATES)
    primary_code, codes = _codes(primary_code, duplicate_codes)
    try:
        primary = await get_case_for(session, actor, primary_code)
    except NotFound as exc:
        raise NotFound(exc.detail, field="primary") from None
    await check_version(session, primary, expected_version)
    check_not_merged(primary, field="primary")
    if primary.status in PRIMARY_REFUSED:
        raise Conflict(
            msg(
                "Yêu cầu gốc {code} đang ở trạng thái “{status}”, không thể nhận yêu cầu trùng",
                code=primary.code,
                status=STATUS_LABELS_VI[primary.status],
            ),
            field="primary",
        )
    members: list[Case] = []
    refused: list[Message] = []
    for code in codes:
        try:
            case = await get_case_for(session, actor, code)
        except NotFound as exc:
            raise NotFound(exc.detail, field="duplicates") from None
        check_not_merged(case, field="duplicates")
        if case.status not in TRANSITIONS[Action.DUPLICATE]:
            refused.append(
                msg("{code} (“{status}”)", code=case.code, status=STATUS_LABELS_VI[case.status])
            )
        members.append(case)
    if refused:
        raise Conflict(
            msg("Không thể gộp, không có yêu cầu nào bị thay đổi: {cases}", cases=tuple(refused)),
            field="duplicates",
            code="merge_refused",
        )
    await workflow.hold(session, primary)
    result = MergeResult(primary=primary, merged=members)
    for case in members:
        result.repointed += await workflow.link_duplicate(
            session, actor=actor, case=case, root=primary
        )
    reporters = _reporters(members + result.repointed)
    await timeline.log(
        session,
        primary,
        "merged",
        actor,
        reason=note.strip() or None,
        data={
            "duplicates": [c.code for c in members],
            "repointed": [c.code for c in result.repointed],
            "reporters": reporters,
        },
    )
    if primary.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        result.notifications = await sharing.share_answer(
            session, actor=actor, primary=primary, duplicates=members + result.repointed
        )
    return result


def _reporters(cases: list[Case]) -> list[dict[str, object]]:
    # Contact ids, not names: the timeline is read by many, and a name read from the contact
    # card is logged as a personal-data read (contacts.service.log_personal_read).
    return [{"case": c.code, "channel": c.channel.value, "contact_id": c.contact_id} for c in cases]
