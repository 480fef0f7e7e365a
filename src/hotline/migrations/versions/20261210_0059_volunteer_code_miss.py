"""Wrong volunteer confirmation codes, counted per number over a rolling 24 hours

Revision ID: 20261210_0059
Revises: 20261210_0057
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261210_0059'
down_revision = '20261210_0057'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'volunteer_code_miss',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_code_miss')),
    )
    op.create_index('ix_volunteer_code_miss_phone_at', 'volunteer_code_miss', ['phone', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_volunteer_code_miss_phone_at', table_name='volunteer_code_miss')
    op.drop_table('volunteer_code_miss')
