"""Our sends found by channel and provider id in one index

Revision ID: 20261211_0064
Revises: 20261210_0063
Create Date: 2026-12-11 09:00:00

Echoes and mail threads look a send up by `(channel_id, provider_id)`. With an index on
`provider_id` alone, a table without statistics made PostgreSQL AND it with the channel's
whole range of `uq_message_channel_id_event_id`: a read of every message of the channel
for each echo.
"""

from __future__ import annotations

from alembic import op

revision = '20261211_0064'
down_revision = '20261210_0063'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_message_provider_id_channel_id', 'message', ["provider_id", "channel_id"], unique=False
    )
    op.drop_index('ix_message_provider_id', table_name='message')


def downgrade() -> None:
    op.create_index('ix_message_provider_id', 'message', ['provider_id'], unique=False)
    op.drop_index('ix_message_provider_id_channel_id', table_name='message')
