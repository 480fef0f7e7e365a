"""Who filed a swap request (the place's holder, or a supervisor for them); when an
unfilled shift's hole was seen filled (so that its reopening is announced again)

Revision ID: 20261210_0060
Revises: 20261210_0059
Create Date: 2026-12-10 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

import hotline.db
from alembic import op

revision = '20261210_0060'
down_revision = '20261210_0059'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shift_swap') as batch:
        batch.add_column(
            sa.Column('filed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True)
        )
        batch.create_foreign_key(
            op.f('fk_shift_swap_filed_by_user'), 'user', ['filed_by'], ['id'], ondelete='SET NULL'
        )
    # The requests filed before this column: their holder filed them, as far as is known.
    op.execute('UPDATE shift_swap SET filed_by = requested_by')
    with op.batch_alter_table('shift_alert') as batch:
        batch.add_column(sa.Column('filled_at', hotline.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shift_alert') as batch:
        batch.drop_column('filled_at')
    with op.batch_alter_table('shift_swap') as batch:
        batch.drop_constraint(op.f('fk_shift_swap_filed_by_user'), type_='foreignkey')
        batch.drop_column('filed_by')
