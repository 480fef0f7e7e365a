"""Which verbs of a case's life a user may use on a case now: the one rule behind the
buttons of the case page and the unit inbox and the `actions` of the API's case detail.

It restates no rule of its own: the statuses come from the transition table
(transitions.py), "hotline staff" is `access.can_edit` (the permission the workflow's verbs
require), and "the unit holds it" is `assignment_state.is_active`, the test the workflow's
unit verbs make on the unit's forwarding.
"""

from __future__ import annotations

from collections.abc import Iterable

from hotline.auth.service import Actor
from hotline.cases.access import can_edit
from hotline.cases.assignment_state import is_active
from hotline.cases.in_charge import acts_on
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseStatus
from hotline.cases.transitions import TRANSITIONS, Action

# Verbs only the hotline uses (workflow.py requires HANDLE_CASES for each).
STAFF_ACTIONS = (
    Action.TAKE,
    Action.FORWARD,
    Action.CLOSE,
    Action.REJECT,
    Action.DUPLICATE,
    Action.REOPEN,
)
# Resolving is the hotline's while no unit holds the case, then the holding unit's.
DIRECT_RESOLVE_FROM = frozenset({CaseStatus.NEW, CaseStatus.IN_PROGRESS})


def unit_assignment(actor: Actor, assignments: Iterable[CaseAssignment]) -> CaseAssignment | None:
    """The forwarding the actor's unit holds on a case, among the case's forwardings."""
    if actor.unit_id is None:
        return None
    for a in assignments:
        if a.unit_id == actor.unit_id and is_active(a):
            return a
    return None


def allowed_actions(
    actor: Actor, case: Case, assignment: CaseAssignment | None
) -> frozenset[Action]:
    """The verbs the workflow would let `actor` use on `case` in its current status;
    `assignment` is the forwarding the actor's unit holds (`unit_assignment`), if any."""
    status = case.status
    found: set[Action] = set()
    if can_edit(actor):
        found.update(a for a in STAFF_ACTIONS if status in TRANSITIONS[a])
        if status in DIRECT_RESOLVE_FROM:
            found.add(Action.RESOLVE)
        if not acts_on(actor, case):
            # Home care's urgent case read as the neutral line: taking it is the way in
            # (cases/in_charge.py).
            found &= {Action.TAKE}
    if assignment is not None and assignment.unit_id == actor.unit_id and is_active(assignment):
        if assignment.status == AssignmentStatus.PENDING and status in TRANSITIONS[Action.ACCEPT]:
            found.add(Action.ACCEPT)
        for action in (Action.RETURN, Action.RESOLVE):
            if status in TRANSITIONS[action]:
                found.add(action)
    return frozenset(found)
