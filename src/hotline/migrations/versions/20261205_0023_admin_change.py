"""The administrators' audit trail: accounts, categories, units, the active triage model

Revision ID: 20261205_0023
Revises: 20261205_0021
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261205_0023'
down_revision = '20261205_0021'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSONT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'admin_change',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('user_id', BIGID, nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('before', JSONT, nullable=True),
        sa.Column('after', JSONT, nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_admin_change_user_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_change')),
    )
    op.create_index(
        'ix_admin_change_kind_key', 'admin_change', ['kind', 'key', 'id'], unique=False
    )
    op.create_index(
        op.f('ix_admin_change_user_id'), 'admin_change', ['user_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_admin_change_user_id'), table_name='admin_change')
    op.drop_index('ix_admin_change_kind_key', table_name='admin_change')
    op.drop_table('admin_change')
