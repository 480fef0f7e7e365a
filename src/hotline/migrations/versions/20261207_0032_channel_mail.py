"""E-mail channels: a channel's reading state (IMAP UIDs), a message's subject

Revision ID: 20261207_0032
Revises: 20261206_0025
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '20261207_0032'
down_revision = '20261206_0025'
branch_labels = None
depends_on = None

JSONT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('channel', sa.Column('state', JSONT, nullable=True))
    op.add_column('message', sa.Column('subject', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.drop_column('subject')
    with op.batch_alter_table('channel') as batch:
        batch.drop_column('state')
