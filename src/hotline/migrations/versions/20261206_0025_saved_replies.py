"""Saved replies per category; inbound messages sent by a machine marked `automatic`

Revision ID: 20261206_0025
Revises: 20261206_0030
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261206_0025'
down_revision = '20261206_0030'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'saved_reply',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('category_code', sa.String(length=40), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_by', BIGID, nullable=True),
        sa.Column('updated_by', BIGID, nullable=True),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['category_code'], ['category.code'],
            name=op.f('fk_saved_reply_category_code_category'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['created_by'], ['user.id'], name=op.f('fk_saved_reply_created_by_user'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['updated_by'], ['user.id'], name=op.f('fk_saved_reply_updated_by_user'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_reply')),
    )
    op.create_index(
        op.f('ix_saved_reply_category_code'), 'saved_reply', ['category_code'], unique=False
    )
    with op.batch_alter_table('message') as batch:
        batch.add_column(
            sa.Column('automatic', sa.Boolean(), server_default=sa.text('false'), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.drop_column('automatic')
    op.drop_index(op.f('ix_saved_reply_category_code'), table_name='saved_reply')
    op.drop_table('saved_reply')
