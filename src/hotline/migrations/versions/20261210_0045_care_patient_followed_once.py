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
    op.create_index(
        'uq_care_patient_contact_followed', 'care_patient', ['contact_id'], unique=True,
        postgresql_where=sa.text("state <> 'ended'"),
        sqlite_where=sa.text("state <> 'ended'"),
    )


def downgrade() -> None:
    op.drop_index('uq_care_patient_contact_followed', table_name='care_patient')
