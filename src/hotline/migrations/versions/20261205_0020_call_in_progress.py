"""calls in progress: a partial index on the calls not ended yet

Revision ID: 20261205_0020
Revises: 20261204_0016
Create Date: 2026-12-05 09:00:00

The dashboard counts the calls in progress on every refresh, and every connected dashboard
refreshes when a case or a call changes. Without an index that count read the whole call
table (tens of milliseconds at 200,000 calls, growing with the history); the calls not
ended are a handful at any moment, so a partial index over them stays tiny and costs a
call's insert and its end one small index write each.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261205_0020"
down_revision = "20261204_0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("ended_at IS NULL")
    op.create_index(
        "ix_call_in_progress", "call", ["started_at"], postgresql_where=where, sqlite_where=where
    )


def downgrade() -> None:
    op.drop_index("ix_call_in_progress", table_name="call")
