"""What "active" and "overdue" mean for a forwarding, each defined once.

Each rule is written twice side by side, as a SQL expression (lists, the deadline sweep,
unit queues) and as a Python predicate (the case page, workflow checks), so that they
cannot drift apart: `?overdue=true`, the case page and the worker's sweep all agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_

from hotline.cases.models import AssignmentStatus, CaseAssignment

# A forwarding is active while the unit still holds it: not yet accepted, or accepted and
# being worked on. Returned and resolved ones are finished.
ACTIVE_STATUSES = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)


def active_sql() -> ColumnElement[bool]:
    """SQL: the forwarding is active."""
    return CaseAssignment.status.in_(ACTIVE_STATUSES)


def is_active(assignment: CaseAssignment) -> bool:
    """Python: the forwarding is active (same rule as `active_sql`)."""
    return assignment.status in ACTIVE_STATUSES


# Overdue is a present state: an active forwarding past its deadline. A forwarding the unit
# finished late is no longer overdue; when the sweep escalated it stays in `overdue_at`.


def overdue_sql(now: datetime) -> ColumnElement[bool]:
    """SQL: the forwarding is active and its deadline has passed at `now`."""
    return and_(active_sql(), CaseAssignment.due_at < now)


def is_overdue(assignment: CaseAssignment, now: datetime) -> bool:
    """Python: the forwarding is active and its deadline has passed at `now` (same rule as
    `overdue_sql`)."""
    return is_active(assignment) and assignment.due_at < now
