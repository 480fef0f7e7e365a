"""Channels: a conversation's audience (citizen, or the hotline's own staff and volunteers)

Revision ID: 20261210_0044
Revises: 20261210_0043
Create Date: 2026-12-10 00:44:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0044'
down_revision = '20261210_0043'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'conversation',
        sa.Column('audience', sa.String(length=10), nullable=False, server_default='citizen'),
    )
    # The conversations staff alerts opened before this revision (channels/notify.py).
    op.execute(
        "UPDATE conversation SET audience = 'staff' WHERE id IN ("
        " SELECT m.conversation_id FROM message m"
        " WHERE m.source = 'staff_alert' AND m.direction = 'out')"
        " AND NOT EXISTS (SELECT 1 FROM message c WHERE c.conversation_id = conversation.id"
        " AND c.direction = 'out' AND c.source <> 'staff_alert')"
        " AND case_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('conversation') as batch:
        batch.drop_column('audience')
