"""The portal's tracking secrets (hashed), one per case sent through the portal

Revision ID: 20261204_0016
Revises: 20261204_0015
Create Date: 2026-12-04 20:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261204_0016'
down_revision = '20261204_0015'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'portal_ticket',
        sa.Column('case_id', BIGID, nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['case.id'], name=op.f('fk_portal_ticket_case_id_case'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_portal_ticket')),
    )


def downgrade() -> None:
    op.drop_table('portal_ticket')
