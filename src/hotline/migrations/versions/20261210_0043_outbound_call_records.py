"""outbound call records: the callbacks the line dials have a call row (direction), linked
from their attempt

Revision ID: 20261210_0043
Revises: 20261210_0040
Create Date: 2026-12-10 09:00:00

Every existing call was a call to the line: `direction` defaults to 'inbound'.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0043'
down_revision = '20261210_0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call') as batch:
        batch.add_column(
            sa.Column(
                'direction',
                sa.Enum('inbound', 'outbound', name='calldirection', native_enum=False, length=8),
                server_default='inbound',
                nullable=False,
            )
        )
    with op.batch_alter_table('callback_attempt') as batch:
        batch.add_column(sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch.create_index(batch.f('ix_callback_attempt_call_id'), ['call_id'], unique=False)
        batch.create_foreign_key(
            batch.f('fk_callback_attempt_call_id_call'),
            'call',
            ['call_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('callback_attempt') as batch:
        batch.drop_constraint(batch.f('fk_callback_attempt_call_id_call'), type_='foreignkey')
        batch.drop_index(batch.f('ix_callback_attempt_call_id'))
        batch.drop_column('call_id')
    with op.batch_alter_table('call') as batch:
        batch.drop_column('direction')
