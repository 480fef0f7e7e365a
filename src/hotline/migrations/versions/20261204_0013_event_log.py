"""The event log: every committed domain event, read live by each web process

Revision ID: 20261204_0013
Revises: 20261204_0012
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261204_0013'
down_revision = '20261204_0012'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('case_code', sa.String(length=20), nullable=True),
        sa.Column('unit_ids', JSON, nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('event')
