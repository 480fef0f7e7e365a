"""triage model

Revision ID: 20261123_0004
Revises: 20261123_0003
Create Date: 2026-11-23 11:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '20261123_0004'
down_revision = "20261123_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('triage_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('trained_on', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('metrics', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_model')),
    sa.UniqueConstraint('version', name=op.f('uq_triage_model_version'))
    )


def downgrade() -> None:
    op.drop_table('triage_model')
