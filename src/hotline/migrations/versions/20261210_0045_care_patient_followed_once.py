"""care: one followed patient (not ended) per contact, a partial unique index

Revision ID: 20261210_0045
Revises: 20261210_0041
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0045'
down_revision = '20261210_0041'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Registrations at once could make two followed patients of one person before this
    # index: say which, rather than fail on the index with the database's words. Which one
    # to end is a doctor's call, not the migration's.
    twice = op.get_bind().execute(
        sa.text(
            "SELECT contact_id FROM care_patient WHERE state <> 'ended' "
            "GROUP BY contact_id HAVING COUNT(*) > 1 ORDER BY contact_id LIMIT 20"
        )
    ).scalars().all()
    if twice:
        raise RuntimeError(
            "care_patient: contacts followed twice (end one of each, then upgrade again): "
            + ", ".join(str(c) for c in twice)
        )
    op.create_index(
        'uq_care_patient_contact_followed', 'care_patient', ['contact_id'], unique=True,
        postgresql_where=sa.text("state <> 'ended'"),
        sqlite_where=sa.text("state <> 'ended'"),
    )


def downgrade() -> None:
    op.drop_index('uq_care_patient_contact_followed', table_name='care_patient')
