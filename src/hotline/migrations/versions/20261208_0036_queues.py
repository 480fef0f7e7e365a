"""Queues as configuration: call takers' skills, and the line's own callback dialling

Revision ID: 20261208_0036
Revises: 20261206_0033
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261208_0036'
down_revision = '20261208_0037'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skills', JSON, nullable=True))
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', hotline.db.UTCDateTime(), nullable=True))
    op.create_table(
        'callback_attempt',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('callback_id', BIGID, nullable=False),
        sa.Column('started_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('ended_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('operator_id', BIGID, nullable=True),
        sa.Column('result', sa.Enum('connected', 'no_answer', 'agent_missed', 'failed', name='callbackresult', native_enum=False, length=16), nullable=False),
        sa.ForeignKeyConstraint(['callback_id'], ['callback.id'], name=op.f('fk_callback_attempt_callback_id_callback'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['user.id'], name=op.f('fk_callback_attempt_operator_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempt')),
    )
    with op.batch_alter_table('callback_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempt_callback_id'), ['callback_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('callback_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempt_callback_id'))
    op.drop_table('callback_attempt')
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('skills')
