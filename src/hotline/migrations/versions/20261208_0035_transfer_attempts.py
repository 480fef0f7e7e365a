"""Transfer attempts per call (REFER, bridge, queue) and operators' SIP registrations

Revision ID: 20261208_0035
Revises: 20261206_0033
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261208_0035'
down_revision = '20261208_0036'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'sip_registration',
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('contact', sa.String(length=500), nullable=False),
        sa.Column('received_host', sa.String(length=64), nullable=False),
        sa.Column('received_port', sa.Integer(), nullable=False),
        sa.Column('expires_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('instance', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('username', name=op.f('pk_sip_registration')),
    )
    op.create_index(op.f('ix_sip_registration_expires_at'), 'sip_registration', ['expires_at'], unique=False)
    op.create_table(
        'transfer_attempt',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('call_id', BIGID, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('method', sa.Enum('refer', 'bridge', 'queue', name='transfermethod', native_enum=False, length=8), nullable=False),
        sa.Column('destination', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('started_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('ended_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('result', sa.Enum('answered', 'accepted', 'refused', 'timeout', 'unreachable', 'abandoned', 'callback', name='transferresult', native_enum=False, length=12), nullable=False),
        sa.Column('sip_status', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_transfer_attempt_call_id_call'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_attempt')),
    )
    op.create_index(op.f('ix_transfer_attempt_call_id'), 'transfer_attempt', ['call_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transfer_attempt_call_id'), table_name='transfer_attempt')
    op.drop_table('transfer_attempt')
    op.drop_index(op.f('ix_sip_registration_expires_at'), table_name='sip_registration')
    op.drop_table('sip_registration')
