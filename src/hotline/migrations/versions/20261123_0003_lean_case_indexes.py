"""lean case indexes: partial indexes for rarely-set columns, no index on channel

Revision ID: 20261123_0003
Revises: 20261123_0002
Create Date: 2026-11-23 12:15:00

Every index on "case" is maintained by every intake. Most cases have no assignee, are no
one's duplicate, and contacts are rarely merged: partial indexes keep those rows out of the
index entirely. Lists never filter by channel alone (they order by time), and reports read
counters, so the channel index only cost writes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261123_0003"
down_revision = "20261123_0002"
branch_labels = None
depends_on = None

PARTIAL = (
    ("case", "ix_case_assignee_id", "assignee_id"),
    ("case", "ix_case_duplicate_of_id", "duplicate_of_id"),
    ("contact", "ix_contact_merged_into_id", "merged_into_id"),
)


def upgrade() -> None:
    op.drop_index("ix_case_channel", table_name="case")
    for table, name, column in PARTIAL:
        op.drop_index(name, table_name=table)
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name, table, [column], postgresql_where=where, sqlite_where=where
        )


def downgrade() -> None:
    for table, name, column in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
    op.create_index("ix_case_channel", "case", ["channel"])
