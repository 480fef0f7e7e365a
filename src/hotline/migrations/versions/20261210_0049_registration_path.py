"""The Path of a phone registered through the edge: its calls are routed back through it

Revision ID: 20261210_0049
Revises: 20261210_0047
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '20261210_0049'
down_revision = '20261210_0047'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sip_registration') as batch:
        batch.add_column(sa.Column('path', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sip_registration') as batch:
        batch.drop_column('path')
