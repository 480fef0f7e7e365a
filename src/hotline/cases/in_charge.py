"""Acting on home care's urgent cases: only those who read them act on them.

cases/medical.py decides who reads such a case's medical text and home (the operator holding
it, the unit it is forwarded to, supervisors, administrators). Anyone else reads a neutral
line, and must not choose who reads the text (forwarding), change the triage set from it
(priority, category, urgency, ward) or end the case without having read it. Taking the case
is the way in (the taker then holds it and reads it); a note changes nothing of the case, so
neither is checked here.
"""

from __future__ import annotations

from hotline.auth.service import Actor
from hotline.cases.medical import reads_medical
from hotline.cases.models import Case
from hotline.cases.transitions import ACTION_LABELS_VI, Action
from hotline.errors import NotAllowed
from hotline.messages import msg


def acts_on(actor: Actor, case: Case) -> bool:
    """Whether the actor may act on this case beyond taking it (any case not home care's)."""
    return reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id)


def require_in_charge(actor: Actor, case: Case, action: Action, field: str | None = None) -> None:
    """Refuse a workflow verb on an urgent care case to one who reads only its neutral line."""
    if acts_on(actor, case):
        return
    raise NotAllowed(
        msg(
            "Chỉ người phụ trách ca cấp cứu được {action} yêu cầu này: hãy nhận yêu cầu trước",
            action=ACTION_LABELS_VI[action],
        ),
        field=field,
    )


def check_triage(actor: Actor, case: Case, changes: dict[str, object]) -> None:
    """Refuse an edit of any field of an urgent care case to one who reads only its neutral
    line (cases/medical.check_edit names the medical fields first), naming the field."""
    if acts_on(actor, case):
        return
    for field in sorted(changes):
        raise NotAllowed(
            msg("Chỉ người phụ trách ca cấp cứu được sửa trường {field}", field=field),
            field=field,
        )
