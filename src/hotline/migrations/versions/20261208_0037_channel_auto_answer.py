"""Channels: a conversation answered from the knowledge base, an SMS reply's segments

Revision ID: 20261208_0037
Revises: 20261206_0033
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261208_0037'
down_revision = '20261208_0038'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'conversation', sa.Column('auto_answered_at', hotline.db.UTCDateTime(), nullable=True)
    )
    op.add_column('conversation', sa.Column('auto_answer_article_id', sa.Integer(), nullable=True))
    op.add_column('message', sa.Column('segments', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.drop_column('segments')
    with op.batch_alter_table('conversation') as batch:
        batch.drop_column('auto_answer_article_id')
        batch.drop_column('auto_answered_at')
