"""Idempotency keys of case intake

Revision ID: 20261204_0011
Revises: 20261204_0010
Create Date: 2026-12-04 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261204_0011'
down_revision = '20261204_0010'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('intake_key',
    sa.Column('user_id', BIGID, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('case_id', BIGID, nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_intake_key_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_intake_key_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_intake_key'))
    )
    op.create_index(op.f('ix_intake_key_created_at'), 'intake_key', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_intake_key_created_at'), table_name='intake_key')
    op.drop_table('intake_key')
