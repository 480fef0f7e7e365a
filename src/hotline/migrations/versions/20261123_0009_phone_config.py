"""Phone configuration as data (objects and audit trail), call recordings

Revision ID: 20261123_0009
Revises: 20261123_0008
Create Date: 2026-11-23 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261123_0009'
down_revision = '20261123_0008'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSONT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('phone_config_item',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('data', JSONT, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by', BIGID, nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['user.id'], name=op.f('fk_phone_config_item_updated_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_config_item')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_phone_config_item_kind_key'))
    )
    op.create_table('phone_config_change',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('user_id', BIGID, nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('before', JSONT, nullable=True),
    sa.Column('after', JSONT, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_phone_config_change_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_config_change'))
    )
    op.create_index(op.f('ix_phone_config_change_user_id'), 'phone_config_change', ['user_id'], unique=False)
    op.create_table('call_recording',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('call_id', BIGID, nullable=False),
    sa.Column('storage_name', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('channels', sa.Integer(), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_call_recording_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_recording'))
    )
    op.create_index(op.f('ix_call_recording_call_id'), 'call_recording', ['call_id'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_call_recording_call_id'), table_name='call_recording')
    op.drop_table('call_recording')
    op.drop_index(op.f('ix_phone_config_change_user_id'), table_name='phone_config_change')
    op.drop_table('phone_config_change')
    op.drop_table('phone_config_item')
