"""Server-side page sessions

Revision ID: 20261204_0010
Revises: 20261123_0009
Create Date: 2026-12-04 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261204_0010'
down_revision = '20261123_0009'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('user_session',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('user_id', BIGID, nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_user_session_session_hash'))
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_user_session_user_id'), table_name='user_session')
    op.drop_table('user_session')
