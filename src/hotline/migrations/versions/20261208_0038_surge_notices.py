"""Reserve volunteers and the notices sent to supervisors and reserve volunteers when the
line enters surge mode

Revision ID: 20261208_0038
Revises: 20261206_0033
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261208_0038'
down_revision = '20261206_0033'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column(
        'volunteer',
        sa.Column('reserve', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    )
    op.create_table(
        'staffing_notice',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('surge_change_id', BIGID, nullable=False),
        sa.Column('user_id', BIGID, nullable=True),
        sa.Column('volunteer_id', BIGID, nullable=True),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column(
            'delivery',
            sa.Enum('recorded', 'sms', name='noticedelivery', native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column('message_id', BIGID, nullable=True),
        sa.CheckConstraint(
            '(user_id IS NULL) <> (volunteer_id IS NULL)',
            name=op.f('ck_staffing_notice_one_person'),
        ),
        sa.ForeignKeyConstraint(
            ['surge_change_id'], ['surge_change.id'],
            name=op.f('fk_staffing_notice_surge_change_id_surge_change'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_staffing_notice_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['volunteer_id'], ['volunteer.id'],
            name=op.f('fk_staffing_notice_volunteer_id_volunteer'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['message_id'], ['message.id'], name=op.f('fk_staffing_notice_message_id_message'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staffing_notice')),
        sa.UniqueConstraint('surge_change_id', 'user_id', name='uq_staffing_notice_user'),
        sa.UniqueConstraint(
            'surge_change_id', 'volunteer_id', name='uq_staffing_notice_volunteer'
        ),
    )
    op.create_index(op.f('ix_staffing_notice_at'), 'staffing_notice', ['at'])
    op.create_index(
        op.f('ix_staffing_notice_surge_change_id'), 'staffing_notice', ['surge_change_id']
    )
    op.create_index(op.f('ix_staffing_notice_user_id'), 'staffing_notice', ['user_id'])
    op.create_index(op.f('ix_staffing_notice_volunteer_id'), 'staffing_notice', ['volunteer_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_staffing_notice_volunteer_id'), table_name='staffing_notice')
    op.drop_index(op.f('ix_staffing_notice_user_id'), table_name='staffing_notice')
    op.drop_index(op.f('ix_staffing_notice_surge_change_id'), table_name='staffing_notice')
    op.drop_index(op.f('ix_staffing_notice_at'), table_name='staffing_notice')
    op.drop_table('staffing_notice')
    with op.batch_alter_table('volunteer') as batch:
        batch.drop_column('reserve')
