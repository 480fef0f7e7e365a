"""call quarter counter: the calls each branch was offered per UTC quarter-hour, which the
staffing forecast reads instead of every call of its window; filled from the call records

Revision ID: 20261210_0047
Revises: 20261210_0046
Create Date: 2026-12-10 12:00:00

Counted as calls/service.py counts them live: calls to the line (not the callbacks it
dials) that are finished or were never answered, with a branch, not ended outside hours.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0047'
down_revision = '20261210_0046'
branch_labels = None
depends_on = None

QUARTER = {
    'postgresql': "CAST(floor(extract(epoch FROM started_at) / 900) AS INTEGER)",
    # Whole seconds only: SQLite reads the stored fraction to the nearest millisecond, so
    # 12:14:59.999999 would become 12:15:00 and fall in the next quarter-hour.
    'sqlite': "CAST(strftime('%s', substr(started_at, 1, 19)) AS INTEGER) / 900",
}

BACKFILL = """
INSERT INTO call_quarter_counter
    (branch, quarter, calls, answered, talk_seconds, wait_seconds, abandoned)
SELECT branch, {quarter} AS q, count(*),
       sum(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
       sum(CASE WHEN answered_at IS NOT NULL THEN talk_seconds ELSE 0 END),
       sum(queue_wait_seconds),
       sum(CASE WHEN outcome = 'abandoned_queue' THEN 1 ELSE 0 END)
FROM call
WHERE direction = 'inbound'
  AND (ended_at IS NOT NULL OR answered_at IS NULL)
  AND branch IS NOT NULL AND branch <> ''
  AND (outcome IS NULL OR outcome <> 'outside_hours')
GROUP BY branch, q
"""


def upgrade() -> None:
    op.create_table(
        'call_quarter_counter',
        sa.Column('branch', sa.String(length=20), nullable=False),
        sa.Column('quarter', sa.Integer(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('talk_seconds', sa.Integer(), nullable=False),
        sa.Column('wait_seconds', sa.Integer(), nullable=False),
        sa.Column('abandoned', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('branch', 'quarter', name=op.f('pk_call_quarter_counter')),
    )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL.format(quarter=QUARTER[dialect]))


def downgrade() -> None:
    op.drop_table('call_quarter_counter')
