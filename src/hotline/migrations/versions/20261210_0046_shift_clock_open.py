"""One open clock row per person: a partial unique index on shift_clock(user_id) where
out_at is null

Revision ID: 20261210_0046
Revises: 20261210_0045
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0046'
down_revision = '20261210_0045'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows left open twice by clock-ins that raced before this key existed: the newest open
    # row stays, the older ones are closed when they began (no time is counted for them).
    op.execute(
        "UPDATE shift_clock SET out_at = in_at WHERE out_at IS NULL AND id NOT IN "
        "(SELECT max(id) FROM shift_clock WHERE out_at IS NULL GROUP BY user_id)"
    )
    op.create_index(
        'uq_shift_clock_open',
        'shift_clock',
        ['user_id'],
        unique=True,
        postgresql_where=sa.text('out_at IS NULL'),
        sqlite_where=sa.text('out_at IS NULL'),
    )


def downgrade() -> None:
    op.drop_index('uq_shift_clock_open', table_name='shift_clock')
