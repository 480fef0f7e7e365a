"""Consult requests (callbacks in a consult window, messages, staff entries), their doctors,
and a callback's due time

Revision ID: 20261206_0033
Revises: 20261207_0032
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '20261206_0033'
down_revision = '20261207_0032'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'care_consult_request',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('source', sa.Enum('phone', 'message', 'staff', name='consultsource', native_enum=False, length=10), nullable=False),
        sa.Column('status', sa.Enum('open', 'taken', 'done', name='consultstatus', native_enum=False, length=8), nullable=False),
        sa.Column('contact_id', BIGID, nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('call_id', BIGID, nullable=True),
        sa.Column('callback_id', BIGID, nullable=True),
        sa.Column('conversation_id', BIGID, nullable=True),
        sa.Column('due_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('window_ends_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('taken_by_id', BIGID, nullable=True),
        sa.Column('taken_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('done_by_id', BIGID, nullable=True),
        sa.Column('done_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('created_by_id', BIGID, nullable=True),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_care_consult_request_call_id_call'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['callback_id'], ['callback.id'], name=op.f('fk_care_consult_request_callback_id_callback'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_care_consult_request_contact_id_contact')),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_care_consult_request_conversation_id_conversation'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_care_consult_request_created_by_id_user')),
        sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_care_consult_request_done_by_id_user')),
        sa.ForeignKeyConstraint(['taken_by_id'], ['user.id'], name=op.f('fk_care_consult_request_taken_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_consult_request')),
        sa.UniqueConstraint('callback_id', name=op.f('uq_care_consult_request_callback_id')),
    )
    op.create_index(op.f('ix_care_consult_request_contact_id'), 'care_consult_request', ['contact_id'], unique=False)
    op.create_index('ix_care_consult_request_status_due_at', 'care_consult_request', ['status', 'due_at'], unique=False)
    op.create_table(
        'care_consult_assignee',
        sa.Column('request_id', BIGID, nullable=False),
        sa.Column('user_id', BIGID, nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['care_consult_request.id'], name=op.f('fk_care_consult_assignee_request_id_care_consult_request'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_care_consult_assignee_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('request_id', 'user_id', name=op.f('pk_care_consult_assignee')),
    )
    op.create_index(op.f('ix_care_consult_assignee_user_id'), 'care_consult_assignee', ['user_id'], unique=False)
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', hotline.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_column('due_at')
    op.drop_index(op.f('ix_care_consult_assignee_user_id'), table_name='care_consult_assignee')
    op.drop_table('care_consult_assignee')
    op.drop_index('ix_care_consult_request_status_due_at', table_name='care_consult_request')
    op.drop_index(op.f('ix_care_consult_request_contact_id'), table_name='care_consult_request')
    op.drop_table('care_consult_request')
