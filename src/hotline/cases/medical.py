"""The medical details of the urgent cases home care opens: who reads them.

Home care's escalation opens its urgent `cap_cuu` cases on the `care` channel (only the
system may), with the patient's warning signs, SpO2, breathing rate, F0/F1, NEWS2, tier and
age band in the description and their home in the address. The 115 unit gets them forwarded
at once; the hotline is involved only when the case comes back. So those details are for
the people in charge of the case (the operator holding it, the unit it is forwarded to) and
the care coordinators (supervisors, administrators); every other reader sees a neutral line
and no address. Every read path of cases (detail, lists, search, similar cases) goes
through here; every full read of one of these cases, in a list too, is logged as a
personal-data read.

Doctors reach no case through the cases service (cases/access.py): the patients they follow
are read, with more than this, in the care record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import false, inspect, or_
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.cases.models import Case, CaseAssignment, CaseEvent
from hotline.contacts.models import Channel
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.errors import InvalidInput, NotAllowed
from hotline.messages import msg

NEUTRAL = msg("Ca cấp cứu từ mạng lưới bác sĩ — chi tiết y tế chỉ người phụ trách xem được")
# The purposes a full read of such a case is logged under: opened (its API answer, its
# page, an action's answer), in a list (the cases list and search, a citizen's cases, the
# console, a unit's inbox), as similar cases, as a duplicate cluster, in its timeline's
# edits, as the words its guidance articles were matched on.
PURPOSE = "care_case"
LIST_PURPOSE = "care_case_list"
CONSOLE_PURPOSE = "care_console"
INBOX_PURPOSE = "care_unit_inbox"
SIMILAR_PURPOSE = "care_case_similar"
CLUSTER_PURPOSE = "care_case_cluster"
TIMELINE_PURPOSE = "care_case_timeline"
ARTICLES_PURPOSE = "care_case_articles"


def reads_medical(actor: Actor, *, channel: Channel | str, assignee_id: int | None) -> bool:
    """Whether the actor reads this case's description and address as written.

    Called only for cases the actor may see at all (cases/access.py): for a unit officer
    that already means the unit holds the case or its answer stands.
    """
    if channel != Channel.CARE:
        return True
    if allows(actor, Permission.SEE_ALL_PATIENTS) or actor.unit_scoped:
        return True
    return actor.user_id is not None and assignee_id == actor.user_id


# The fields of a case holding the medical text and the home: only those who read them
# edit them (an edit made blind would overwrite what the writer cannot see).
MEDICAL_FIELDS = ("description", "address", "lat", "long")


def check_edit(actor: Actor, case: Case, changes: dict[str, object]) -> None:
    """Refuse an edit of a care case that would publish it or write its medical fields
    without reading them. Other cases, and its other fields, are edited as before."""
    if case.channel != Channel.CARE:
        return
    if changes.get("public"):
        # The public portal is read by anyone: a patient's warning signs never go there.
        raise InvalidInput(
            msg("Ca cấp cứu từ mạng lưới bác sĩ không được công khai"), field="public"
        )
    if reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id):
        return
    for field in MEDICAL_FIELDS:
        if field in changes:
            raise NotAllowed(
                msg("Chỉ người phụ trách ca cấp cứu được sửa trường {field}", field=field),
                field=field,
            )


def check_not_merged(case: Case, *, field: str) -> None:
    """Refuse a care case as either side of a duplicate link. A merge copies the original's
    answer to its duplicates and notifies their reporters, so the 115 unit's answer on a
    patient would reach other citizens; and an operator reading the neutral line would end
    an urgent case as the repeat of a text they cannot see."""
    if case.channel == Channel.CARE:
        raise InvalidInput(
            msg("Ca cấp cứu từ mạng lưới bác sĩ không được gộp với yêu cầu khác"), field=field
        )


def medical_clause(actor: Actor) -> Any:
    """SQL: the visible cases whose text this actor may read (None: every one). A search
    matches only these, so hidden medical text never finds a case."""
    if allows(actor, Permission.SEE_ALL_PATIENTS) or actor.unit_scoped:
        return None
    held = Case.assignee_id == actor.user_id if actor.user_id is not None else false()
    return or_(Case.channel != Channel.CARE, held)


def _neutral_copy(case: Case) -> Case:
    """A copy of the case, never added to the session (nothing of it is written back),
    with the medical text, the answer and the home's address and position left out."""
    values = {attr.key: getattr(case, attr.key) for attr in inspect(Case).column_attrs}
    values.update(description=NEUTRAL, address="", lat=None, long=None, search_text="")
    values.update(answer=_hidden(case.answer))
    return Case(**values)


# What people write on such a case (a note, a reason, an answer, a file and its name, the
# guidance article used) may say how the patient is: it follows the medical text. The
# timeline's data keys holding such words; a reader of the neutral line gets TEXT_HIDDEN
# in their place (their own notes aside), and the live stream carries none of them.
TEXT_DATA = frozenset({"answer", "filename", "question", "slug"})
TEXT_HIDDEN = msg("Nội dung chỉ người phụ trách ca cấp cứu xem được")


def _hidden(text: str | None) -> str | None:
    return TEXT_HIDDEN if text else text


def has_text(event: CaseEvent) -> bool:
    """Whether a timeline entry holds words written on the case (TEXT_DATA, a reason)."""
    return bool(event.reason) or bool(TEXT_DATA.intersection(event.data or {}))


def shown_entry(
    actor: Actor, case: Case, event: CaseEvent, data: dict[str, Any]
) -> tuple[CaseEvent, dict[str, Any]]:
    """A timeline entry of the case as this actor may read it: for one reading the neutral
    line of a care case, another's words replaced by TEXT_HIDDEN in a copy never added to
    the session. Anyone else, and any other case, gets the entry as it is."""
    if (
        case.channel != Channel.CARE
        or reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id)
        or (event.actor_id is not None and event.actor_id == actor.user_id)
        or not has_text(event)
    ):
        return event, data
    values = {attr.key: getattr(event, attr.key) for attr in inspect(CaseEvent).column_attrs}
    values["reason"] = _hidden(event.reason)
    data = {k: (TEXT_HIDDEN if k in TEXT_DATA else v) for k, v in data.items()}
    return CaseEvent(**values), data


def shown_assignments(
    actor: Actor, case: Case, assignments: list[CaseAssignment]
) -> list[CaseAssignment]:
    """The case's forwardings as this actor may read them: a care case's note to the unit,
    the unit's answer and its reason for returning it, for those who read its text."""
    if reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id):
        return assignments
    columns = inspect(CaseAssignment).column_attrs
    out = []
    for a in assignments:
        values = {attr.key: getattr(a, attr.key) for attr in columns}
        values.update(
            note=_hidden(a.note) or "",
            answer=_hidden(a.answer),
            return_reason=_hidden(a.return_reason),
        )
        out.append(CaseAssignment(**values))
    return out


async def shown_cases(
    session: AsyncSession, actor: Actor, cases: Iterable[Case], *, purpose: str | None = PURPOSE
) -> list[Case]:
    """The cases as this actor may read them, in the same order; the full reads of care
    cases logged under `purpose` (None: nothing of them is returned, e.g. only the codes)."""
    out: list[Case] = []
    full: list[ReadSubject] = []
    for case in cases:
        if reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id):
            out.append(case)
            if case.channel == Channel.CARE:
                full.append(ReadSubject(contact_id=case.contact_id, case_id=case.id))
        else:
            if inspect(case).unloaded:
                # Expired by a change in this transaction: the copy reads every column.
                await session.refresh(case)
            out.append(_neutral_copy(case))
    if full and purpose is not None:
        await log_personal_reads(session, user_id=actor.user_id, purpose=purpose, subjects=full)
    return out


async def shown_case(session: AsyncSession, actor: Actor, case: Case) -> Case:
    """One case as this actor may read it (its page, its API detail); a full read logged."""
    return (await shown_cases(session, actor, [case]))[0]
