"""call records: SIP Call-ID, trunk, codec, final status, who ended the call and why, and
the line's record key

Revision ID: 20261208_0034
Revises: 20261206_0033
Create Date: 2026-12-08 09:00:00

`record_key` is unique: the phone line writes a record again after a database outage (from
its spool) or after a crash between the commit and the spool's clean-up, and must find the
row it wrote rather than add a second. Calls recorded through the API have none (NULLs do
not collide in a unique index on SQLite or PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261208_0034'
down_revision = '20261208_0035'
branch_labels = None
depends_on = None

COLUMNS = (
    ('sip_call_id', sa.String(length=128)),
    ('trunk', sa.String(length=64)),
    ('codec', sa.String(length=8)),
    ('sip_status', sa.SmallInteger()),
    ('ended_by', sa.String(length=12)),
    ('release_cause', sa.String(length=24)),
    ('record_key', sa.String(length=40)),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column('call', sa.Column(name, type_, nullable=True))
    op.create_index(op.f('ix_call_sip_call_id'), 'call', ['sip_call_id'], unique=False)
    op.create_index(op.f('ix_call_record_key'), 'call', ['record_key'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_call_record_key'), table_name='call')
    op.drop_index(op.f('ix_call_sip_call_id'), table_name='call')
    with op.batch_alter_table('call') as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
