"""allowed_actions: the verbs offered to a user match what the workflow lets them do."""

from __future__ import annotations

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.cases.actions import allowed_actions, unit_assignment
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseStatus
from hotline.cases.transitions import Action

OPERATOR = Actor(user_id=1, username="operator", role=Role.OPERATOR)
OFFICER = Actor(user_id=2, username="officer", role=Role.UNIT_OFFICER, unit_id=10)
OUTSIDER = Actor(user_id=3, username="outsider", role=Role.UNIT_OFFICER, unit_id=20)
A = Action


def _forwarding(status: AssignmentStatus, unit_id: int = 10) -> CaseAssignment:
    return CaseAssignment(unit_id=unit_id, status=status)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CaseStatus.NEW, {A.TAKE, A.FORWARD, A.RESOLVE, A.REJECT, A.DUPLICATE}),
        (CaseStatus.IN_PROGRESS, {A.TAKE, A.FORWARD, A.RESOLVE, A.REJECT, A.DUPLICATE}),
        (CaseStatus.FORWARDED, {A.FORWARD}),
        (CaseStatus.ACCEPTED, {A.FORWARD}),
        (CaseStatus.RESOLVED, {A.CLOSE, A.REOPEN}),
        (CaseStatus.CLOSED, {A.REOPEN}),
        (CaseStatus.REJECTED, {A.REOPEN}),
        (CaseStatus.DUPLICATE, {A.REOPEN}),
    ],
)
def test_hotline_staff_get_the_verbs_of_the_status(status, expected):
    assert allowed_actions(OPERATOR, Case(status=status), None) == expected


def test_a_unit_accepts_a_pending_forwarding_then_returns_or_resolves_it():
    pending = _forwarding(AssignmentStatus.PENDING)
    case = Case(status=CaseStatus.FORWARDED)
    assert allowed_actions(OFFICER, case, pending) == {A.ACCEPT, A.RETURN, A.RESOLVE}
    accepted = _forwarding(AssignmentStatus.ACCEPTED)
    case = Case(status=CaseStatus.ACCEPTED)
    assert allowed_actions(OFFICER, case, accepted) == {A.RETURN, A.RESOLVE}


def test_a_unit_without_an_active_forwarding_gets_nothing():
    forwardings = [
        _forwarding(AssignmentStatus.RETURNED),
        _forwarding(AssignmentStatus.PENDING, unit_id=20),
    ]
    case = Case(status=CaseStatus.FORWARDED)
    assert unit_assignment(OFFICER, forwardings) is None
    assert allowed_actions(OFFICER, case, unit_assignment(OFFICER, forwardings)) == frozenset()
    # Another unit's forwarding handed in by mistake is not the officer's.
    assert allowed_actions(OFFICER, case, forwardings[1]) == frozenset()
    assert allowed_actions(OUTSIDER, case, unit_assignment(OUTSIDER, forwardings)) == {
        A.ACCEPT,
        A.RETURN,
        A.RESOLVE,
    }


def test_a_resolved_case_offers_a_unit_nothing():
    done = _forwarding(AssignmentStatus.RESOLVED)
    assert allowed_actions(OFFICER, Case(status=CaseStatus.RESOLVED), done) == frozenset()
