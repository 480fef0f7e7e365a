"""Personal-data reads of a caller's number with no contact card, or of a case's files

Revision ID: 20261204_0012
Revises: 20261204_0011
Create Date: 2026-12-04 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261204_0012'
down_revision = '20261204_0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('personal_data_read', schema=None) as batch_op:
        batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_personal_data_read_phone'), ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('personal_data_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_read_phone'))
        batch_op.drop_column('phone')
    op.execute('DELETE FROM personal_data_read WHERE contact_id IS NULL')
    with op.batch_alter_table('personal_data_read', schema=None) as batch_op:
        batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=False)
