"""Staffing keys: one waiting swap request per place and colleague, one live volunteer offer
per phone number; who allowed an off-roster clock-in, and why

Revision ID: 20261210_0041
Revises: 20261210_0044
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0041'
down_revision = '20261210_0044'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # Requests already waiting twice (sent before this key existed): the newer ones go.
    op.execute(
        "UPDATE shift_swap SET status = 'cancelled' WHERE status = 'requested' AND id NOT IN "
        "(SELECT min(id) FROM shift_swap WHERE status = 'requested' "
        "GROUP BY entry_id, to_user_id)"
    )
    op.create_index(
        'uq_shift_swap_pending',
        'shift_swap',
        ['entry_id', 'to_user_id'],
        unique=True,
        postgresql_where=sa.text("status = 'requested'"),
        sqlite_where=sa.text("status = 'requested'"),
    )
    op.create_index(
        'uq_volunteer_phone_live',
        'volunteer',
        ['phone'],
        unique=True,
        postgresql_where=sa.text("status <> 'rejected'"),
        sqlite_where=sa.text("status <> 'rejected'"),
    )
    with op.batch_alter_table('shift_clock') as batch:
        batch.add_column(sa.Column('override_by', BIGID, nullable=True))
        batch.add_column(
            sa.Column('override_reason', sa.String(length=200), server_default='', nullable=False)
        )
        batch.create_foreign_key(
            op.f('fk_shift_clock_override_by_user'), 'user', ['override_by'], ['id'],
            ondelete='SET NULL',
        )
    with op.batch_alter_table('ring_override') as batch:
        batch.add_column(
            sa.Column('reason', sa.String(length=200), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('ring_override') as batch:
        batch.drop_column('reason')
    with op.batch_alter_table('shift_clock') as batch:
        batch.drop_constraint(op.f('fk_shift_clock_override_by_user'), type_='foreignkey')
        batch.drop_column('override_reason')
        batch.drop_column('override_by')
    op.drop_index('uq_volunteer_phone_live', table_name='volunteer')
    op.drop_index('uq_shift_swap_pending', table_name='shift_swap')
