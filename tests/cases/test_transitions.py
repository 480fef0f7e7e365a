"""The case state machine, pair by pair, against a table written from docs/domain.md."""

from __future__ import annotations

import pytest

from hotline.cases.models import CaseStatus as S
from hotline.cases.transitions import Action, target
from hotline.errors import InvalidTransition

# Written by hand from "A case's life" in docs/domain.md; not derived from TRANSITIONS.
# Missing pairs must be refused.
EXPECTED: dict[tuple[Action, S], S] = {
    # An operator takes a new case; a supervisor may hand an in-progress case to someone else.
    (Action.TAKE, S.NEW): S.IN_PROGRESS,
    (Action.TAKE, S.IN_PROGRESS): S.IN_PROGRESS,
    # Forwarding, also to a further unit while others hold it.
    (Action.FORWARD, S.NEW): S.FORWARDED,
    (Action.FORWARD, S.IN_PROGRESS): S.FORWARDED,
    (Action.FORWARD, S.FORWARDED): S.FORWARDED,
    (Action.FORWARD, S.ACCEPTED): S.ACCEPTED,
    # A unit accepts what was forwarded to it (a second unit may accept later).
    (Action.ACCEPT, S.FORWARDED): S.ACCEPTED,
    (Action.ACCEPT, S.ACCEPTED): S.ACCEPTED,
    # A unit returns a case as not theirs: back to the hotline.
    (Action.RETURN, S.FORWARDED): S.IN_PROGRESS,
    (Action.RETURN, S.ACCEPTED): S.IN_PROGRESS,
    # Answered directly by the hotline, or by the unit holding it.
    (Action.RESOLVE, S.NEW): S.RESOLVED,
    (Action.RESOLVE, S.IN_PROGRESS): S.RESOLVED,
    (Action.RESOLVE, S.FORWARDED): S.RESOLVED,
    (Action.RESOLVE, S.ACCEPTED): S.RESOLVED,
    # Closed once the citizen has been told the answer.
    (Action.CLOSE, S.RESOLVED): S.CLOSED,
    # Spam/abuse/out of scope and duplicates end a case before any handling.
    (Action.REJECT, S.NEW): S.REJECTED,
    (Action.REJECT, S.IN_PROGRESS): S.REJECTED,
    (Action.DUPLICATE, S.NEW): S.DUPLICATE,
    (Action.DUPLICATE, S.IN_PROGRESS): S.DUPLICATE,
    # Ended cases can be reopened and go back to the hotline's queue.
    (Action.REOPEN, S.RESOLVED): S.IN_PROGRESS,
    (Action.REOPEN, S.CLOSED): S.IN_PROGRESS,
    (Action.REOPEN, S.REJECTED): S.IN_PROGRESS,
    (Action.REOPEN, S.DUPLICATE): S.IN_PROGRESS,
}

PAIRS = [(a, s) for a in Action for s in S]


def test_table_covers_every_action_and_status():
    assert len(PAIRS) == len(Action) * len(S) == 72
    assert {a for a, _ in EXPECTED} == set(Action)


@pytest.mark.parametrize(("action", "status"), PAIRS, ids=[f"{a}-{s}" for a, s in PAIRS])
def test_transition_pair_matches_domain(action, status):
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(InvalidTransition) as info:
            target(action, status)
        assert info.value.field == "status"
        assert info.value.code == f"invalid_transition.{action.value}.{status.value}"
    else:
        assert target(action, status) is expected


@pytest.mark.parametrize("status", [S.CLOSED, S.REJECTED, S.DUPLICATE])
def test_ended_cases_only_reopen(status):
    allowed = [a for a in Action if (a, status) in EXPECTED]
    assert allowed == [Action.REOPEN]
    for action in Action:
        if action is not Action.REOPEN:
            with pytest.raises(InvalidTransition):
                target(action, status)
