"""The colleague a swap names answers it before a supervisor decides: who answered and
when; one live request (waiting for the colleague or accepted) per place and colleague

Revision ID: 20261210_0061
Revises: 20261210_0060
Create Date: 2026-12-10 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

import hotline.db
from alembic import op

revision = '20261210_0061'
down_revision = '20261210_0060'
branch_labels = None
depends_on = None

LIVE = "status IN ('requested', 'accepted')"


def upgrade() -> None:
    with op.batch_alter_table('shift_swap') as batch:
        batch.add_column(
            sa.Column(
                'answered_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True
            )
        )
        batch.add_column(sa.Column('answered_at', hotline.db.UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_shift_swap_answered_by_user'),
            'user',
            ['answered_by'],
            ['id'],
            ondelete='SET NULL',
        )
    # Requests waiting when this ran stay waiting: now for the colleague's answer first.
    op.drop_index('uq_shift_swap_pending', table_name='shift_swap')
    op.create_index(
        'uq_shift_swap_pending',
        'shift_swap',
        ['entry_id', 'to_user_id'],
        unique=True,
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    # Accepted and declined requests have no place in the older states: an accepted one
    # waits again, a declined one is rejected.
    op.execute("UPDATE shift_swap SET status = 'requested' WHERE status = 'accepted'")
    op.execute("UPDATE shift_swap SET status = 'rejected' WHERE status = 'declined'")
    op.drop_index('uq_shift_swap_pending', table_name='shift_swap')
    op.create_index(
        'uq_shift_swap_pending',
        'shift_swap',
        ['entry_id', 'to_user_id'],
        unique=True,
        postgresql_where=sa.text("status = 'requested'"),
        sqlite_where=sa.text("status = 'requested'"),
    )
    with op.batch_alter_table('shift_swap') as batch:
        batch.drop_constraint(op.f('fk_shift_swap_answered_by_user'), type_='foreignkey')
        batch.drop_column('answered_at')
        batch.drop_column('answered_by')
