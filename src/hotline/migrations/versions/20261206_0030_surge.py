"""Surge mode: its state and every entry and exit with the queue's figures

Revision ID: 20261206_0030
Revises: 20261206_0029
Create Date: 2026-12-06 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261206_0030'
down_revision = '20261206_0029'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSONT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'surge_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('since', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surge_state')),
    )
    op.create_table(
        'surge_change',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.Column('user_id', BIGID, nullable=True),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('figures', JSONT, nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_surge_change_user_id_user'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surge_change')),
    )
    op.create_index(op.f('ix_surge_change_at'), 'surge_change', ['at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_surge_change_at'), table_name='surge_change')
    op.drop_table('surge_change')
    op.drop_table('surge_state')
