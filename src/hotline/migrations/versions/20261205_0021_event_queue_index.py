"""A partial index on the event log for the phone line's queue figures (queue.changed)

Revision ID: 20261205_0021
Revises: 20261205_0020
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261205_0021'
down_revision = '20261205_0020'
branch_labels = None
depends_on = None

WHERE = sa.text("kind = 'queue.changed'")


def upgrade() -> None:
    op.create_index(
        'ix_event_queue_changed',
        'event',
        ['at'],
        unique=False,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index('ix_event_queue_changed', table_name='event')
