"""A number a contact shares with the contact owning it (a household's one phone)

Revision ID: 20261210_0057
Revises: 20261210_0051
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261210_0057'
down_revision = '20261210_0051'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contact_shared_phone',
        sa.Column('e164', sa.String(length=20), nullable=False),
        sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_shared_phone_contact_id_contact'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('e164', 'contact_id', name=op.f('pk_contact_shared_phone')),
    )
    op.create_index(op.f('ix_contact_shared_phone_contact_id'), 'contact_shared_phone', ['contact_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_contact_shared_phone_contact_id'), table_name='contact_shared_phone')
    op.drop_table('contact_shared_phone')
