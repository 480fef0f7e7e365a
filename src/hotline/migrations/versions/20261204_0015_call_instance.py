"""Which phone-line instance handles a call (reconciled when that instance restarts)

Revision ID: 20261204_0015
Revises: 20261204_0013
Create Date: 2026-12-04 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261204_0015'
down_revision = '20261204_0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_call_instance'), ['instance'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_instance'))
        batch_op.drop_column('instance')
