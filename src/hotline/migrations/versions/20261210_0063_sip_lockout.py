"""REGISTER lockouts shared by the phone-line processes and kept across their restarts

Revision ID: 20261210_0063
Revises: 20261210_0061
Create Date: 2026-12-10 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

import hotline.db
from alembic import op

revision = '20261210_0063'
down_revision = '20261210_0061'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sip_lockout',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('strikes', sa.Integer(), nullable=False),
        sa.Column('locked_until', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('expires_at', hotline.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sip_lockout')),
    )
    op.create_index(op.f('ix_sip_lockout_expires_at'), 'sip_lockout', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sip_lockout_expires_at'), table_name='sip_lockout')
    op.drop_table('sip_lockout')
