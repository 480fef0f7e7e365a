"""Staffing: shift templates, volunteers, the roster, swaps, clock records, ring overrides,
unfilled-shift alerts

Revision ID: 20261206_0029
Revises: 20261205_0026
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261206_0029'
down_revision = '20261205_0026'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSONT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _user_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ['user.id'], name=op.f(f'fk_{table}_{column}_user'), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        'shift_template',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('starts_at', sa.Time(), nullable=False),
        sa.Column('hours', sa.Integer(), nullable=False),
        sa.Column('operators', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_template')),
        sa.UniqueConstraint('code', name=op.f('uq_shift_template_code')),
    )
    op.create_table(
        'volunteer',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('full_name', sa.String(length=120), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('skills', JSONT, nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'pending', 'approved', 'rejected',
                name='volunteerstatus', native_enum=False, length=10,
            ),
            nullable=False,
        ),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('user_id', BIGID, nullable=True),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('decided_by', BIGID, nullable=True),
        sa.Column('decided_at', hotline.db.UTCDateTime(), nullable=True),
        _user_fk('volunteer', 'decided_by', 'SET NULL'),
        _user_fk('volunteer', 'user_id', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer')),
    )
    op.create_index(op.f('ix_volunteer_phone'), 'volunteer', ['phone'], unique=False)
    op.create_table(
        'roster_entry',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('shift_id', BIGID, nullable=False),
        sa.Column('user_id', BIGID, nullable=True),
        sa.Column('volunteer_id', BIGID, nullable=True),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('created_by', BIGID, nullable=True),
        sa.CheckConstraint(
            '(user_id IS NULL) <> (volunteer_id IS NULL)',
            name=op.f('ck_roster_entry_one_person'),
        ),
        _user_fk('roster_entry', 'created_by', 'SET NULL'),
        sa.ForeignKeyConstraint(
            ['shift_id'], ['shift_template.id'],
            name=op.f('fk_roster_entry_shift_id_shift_template'), ondelete='CASCADE',
        ),
        _user_fk('roster_entry', 'user_id', 'CASCADE'),
        sa.ForeignKeyConstraint(
            ['volunteer_id'], ['volunteer.id'],
            name=op.f('fk_roster_entry_volunteer_id_volunteer'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entry')),
        sa.UniqueConstraint('day', 'shift_id', 'user_id', name='uq_roster_entry_user'),
        sa.UniqueConstraint('day', 'shift_id', 'volunteer_id', name='uq_roster_entry_volunteer'),
    )
    op.create_index('ix_roster_entry_day_shift', 'roster_entry', ['day', 'shift_id'])
    op.create_index(op.f('ix_roster_entry_user_id'), 'roster_entry', ['user_id'])
    op.create_index(op.f('ix_roster_entry_volunteer_id'), 'roster_entry', ['volunteer_id'])
    op.create_table(
        'shift_swap',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('entry_id', BIGID, nullable=False),
        sa.Column('requested_by', BIGID, nullable=False),
        sa.Column('to_user_id', BIGID, nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'requested', 'approved', 'rejected',
                name='swapstatus', native_enum=False, length=10,
            ),
            nullable=False,
        ),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('decided_by', BIGID, nullable=True),
        sa.Column('decided_at', hotline.db.UTCDateTime(), nullable=True),
        _user_fk('shift_swap', 'decided_by', 'SET NULL'),
        sa.ForeignKeyConstraint(
            ['entry_id'], ['roster_entry.id'],
            name=op.f('fk_shift_swap_entry_id_roster_entry'), ondelete='CASCADE',
        ),
        _user_fk('shift_swap', 'requested_by', 'CASCADE'),
        _user_fk('shift_swap', 'to_user_id', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_swap')),
    )
    op.create_index(op.f('ix_shift_swap_entry_id'), 'shift_swap', ['entry_id'])
    op.create_table(
        'shift_clock',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('user_id', BIGID, nullable=False),
        sa.Column('in_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('out_at', hotline.db.UTCDateTime(), nullable=True),
        _user_fk('shift_clock', 'user_id', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_clock')),
    )
    op.create_index('ix_shift_clock_user_out', 'shift_clock', ['user_id', 'out_at'])
    op.create_table(
        'ring_override',
        sa.Column('user_id', BIGID, nullable=False),
        sa.Column('until', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('set_by', BIGID, nullable=True),
        _user_fk('ring_override', 'set_by', 'SET NULL'),
        _user_fk('ring_override', 'user_id', 'CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_ring_override')),
    )
    op.create_table(
        'shift_alert',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('shift_id', BIGID, nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('rostered', sa.Integer(), nullable=False),
        sa.Column('needed', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['shift_id'], ['shift_template.id'],
            name=op.f('fk_shift_alert_shift_id_shift_template'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_alert')),
        sa.UniqueConstraint('day', 'shift_id', name='uq_shift_alert_day_shift'),
    )


def downgrade() -> None:
    op.drop_table('shift_alert')
    op.drop_table('ring_override')
    op.drop_index('ix_shift_clock_user_out', table_name='shift_clock')
    op.drop_table('shift_clock')
    op.drop_index(op.f('ix_shift_swap_entry_id'), table_name='shift_swap')
    op.drop_table('shift_swap')
    op.drop_index(op.f('ix_roster_entry_volunteer_id'), table_name='roster_entry')
    op.drop_index(op.f('ix_roster_entry_user_id'), table_name='roster_entry')
    op.drop_index('ix_roster_entry_day_shift', table_name='roster_entry')
    op.drop_table('roster_entry')
    op.drop_index(op.f('ix_volunteer_phone'), table_name='volunteer')
    op.drop_table('volunteer')
    op.drop_table('shift_template')
