"""ACD: operator availability and SIP logins, callback requests, answered-call counters

Revision ID: 20261123_0008
Revises: 20261123_0007
Create Date: 2026-11-23 13:38:38.991493
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261123_0008'
down_revision = '20261123_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('operator_counter',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('operator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('talk_seconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['user.id'], name=op.f('fk_operator_counter_operator_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'operator_id', 'shard', name=op.f('pk_operator_counter'))
    )
    op.create_table('agent',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('available', 'busy', 'away', name='agentstatus', native_enum=False, length=12), nullable=False),
    sa.Column('status_since', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('sip_username', sa.String(length=80), nullable=True),
    sa.Column('sip_ha1', sa.String(length=32), nullable=True),
    sa.Column('sip_uri', sa.String(length=200), nullable=True),
    sa.Column('missed', sa.Integer(), nullable=False),
    sa.Column('current_call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['current_call_id'], ['call.id'], name=op.f('fk_agent_current_call_id_call'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_agent_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent')),
    sa.UniqueConstraint('sip_username', name=op.f('uq_agent_sip_username'))
    )
    op.create_table('callback',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('caller', sa.String(length=20), nullable=False),
    sa.Column('line', sa.String(length=20), nullable=False),
    sa.Column('branch', sa.String(length=20), nullable=False),
    sa.Column('queued_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', name='callbackstatus', native_enum=False, length=8), nullable=False),
    sa.Column('done_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_callback_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by'], ['user.id'], name=op.f('fk_callback_done_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback'))
    )
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_callback_status_queued_at', ['status', 'queued_at'], unique=False)

    with op.batch_alter_table('call_counter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_20s', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('call_counter', schema=None) as batch_op:
        batch_op.drop_column('answered_20s')

    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_status_queued_at')
        batch_op.drop_index(batch_op.f('ix_callback_call_id'))

    op.drop_table('callback')
    op.drop_table('agent')
    op.drop_table('operator_counter')
