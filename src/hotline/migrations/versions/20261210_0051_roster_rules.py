"""Shift timings kept for the days before a change; volunteer offers whose phone is
confirmed (by a code texted to it or by a supervisor who phoned it), withdrawn offers, and
one approved offer per phone number instead of one live offer

Revision ID: 20261210_0051
Revises: 20261210_0049
Create Date: 2026-12-10 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261210_0051'
down_revision = '20261210_0049'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('shift_template') as batch:
        batch.add_column(sa.Column('earlier', JSON, server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table('volunteer') as batch:
        batch.add_column(sa.Column('phone_confirmed_at', hotline.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('phone_confirmed_by', BIGID, nullable=True))
        batch.add_column(sa.Column('code_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('code_expires_at', hotline.db.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column('code_tries', sa.Integer(), server_default='0', nullable=False)
        )
        batch.add_column(sa.Column('withdrawn_at', hotline.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('withdrawn_by', BIGID, nullable=True))
        batch.add_column(
            sa.Column('withdraw_reason', sa.String(length=200), server_default='', nullable=False)
        )
        batch.create_foreign_key(
            op.f('fk_volunteer_phone_confirmed_by_user'), 'user', ['phone_confirmed_by'], ['id'],
            ondelete='SET NULL',
        )
        batch.create_foreign_key(
            op.f('fk_volunteer_withdrawn_by_user'), 'user', ['withdrawn_by'], ['id'],
            ondelete='SET NULL',
        )
    # An offer a supervisor approved was approved after they contacted the number.
    op.execute(
        "UPDATE volunteer SET phone_confirmed_at = decided_at, phone_confirmed_by = decided_by "
        "WHERE status = 'approved'"
    )
    op.drop_index('uq_volunteer_phone_live', table_name='volunteer')
    op.create_index(
        'uq_volunteer_phone_approved',
        'volunteer',
        ['phone'],
        unique=True,
        postgresql_where=sa.text("status = 'approved'"),
        sqlite_where=sa.text("status = 'approved'"),
    )


def downgrade() -> None:
    op.drop_index('uq_volunteer_phone_approved', table_name='volunteer')
    # Only one live offer per number may stay: the others are refused.
    op.execute("UPDATE volunteer SET status = 'rejected' WHERE status = 'withdrawn'")
    op.execute(
        "UPDATE volunteer SET status = 'rejected' WHERE status = 'pending' AND ("
        "phone IN (SELECT phone FROM volunteer WHERE status = 'approved') OR "
        "id NOT IN (SELECT min(id) FROM volunteer WHERE status = 'pending' GROUP BY phone))"
    )
    op.create_index(
        'uq_volunteer_phone_live',
        'volunteer',
        ['phone'],
        unique=True,
        postgresql_where=sa.text("status <> 'rejected'"),
        sqlite_where=sa.text("status <> 'rejected'"),
    )
    with op.batch_alter_table('volunteer') as batch:
        batch.drop_constraint(op.f('fk_volunteer_withdrawn_by_user'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_volunteer_phone_confirmed_by_user'), type_='foreignkey')
        for column in (
            'withdraw_reason', 'withdrawn_by', 'withdrawn_at', 'code_tries', 'code_expires_at',
            'code_hash', 'phone_confirmed_by', 'phone_confirmed_at',
        ):
            batch.drop_column(column)
    with op.batch_alter_table('shift_template') as batch:
        batch.drop_column('earlier')
