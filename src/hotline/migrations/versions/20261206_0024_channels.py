"""Messaging channels: connected accounts, conversations, messages (inbox and outbox)

Revision ID: 20261206_0024
Revises: 20261205_0023
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261206_0024'
down_revision = '20261205_0023'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSONT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'channel',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('settings', JSONT, nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel')),
    )
    op.create_table(
        'conversation',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('channel_id', BIGID, nullable=False),
        sa.Column('contact_id', BIGID, nullable=False),
        sa.Column('external_user_id', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('case_id', BIGID, nullable=True),
        sa.Column('following', sa.Boolean(), nullable=False),
        sa.Column('last_inbound_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('last_message_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['case.id'], name=op.f('fk_conversation_case_id_case'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['channel_id'], ['channel.id'], name=op.f('fk_conversation_channel_id_channel')
        ),
        sa.ForeignKeyConstraint(
            ['contact_id'], ['contact.id'], name=op.f('fk_conversation_contact_id_contact')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation')),
    )
    op.create_index(op.f('ix_conversation_case_id'), 'conversation', ['case_id'])
    op.create_index(op.f('ix_conversation_channel_id'), 'conversation', ['channel_id'])
    op.create_index(op.f('ix_conversation_contact_id'), 'conversation', ['contact_id'])
    op.create_index('ix_conversation_last_message_at', 'conversation', ['last_message_at'])
    op.create_index(
        'uq_conversation_open',
        'conversation',
        ['channel_id', 'external_user_id'],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        'message',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('channel_id', BIGID, nullable=False),
        sa.Column('conversation_id', BIGID, nullable=False),
        sa.Column('direction', sa.String(length=4), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('event_id', sa.String(length=300), nullable=True),
        sa.Column('attachments', JSONT, nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('long', sa.Float(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('idempotency_key', sa.String(length=120), nullable=True),
        sa.Column('provider_id', sa.String(length=300), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('attempted_at', hotline.db.UTCDateTime(), nullable=True),
        sa.Column('author_id', BIGID, nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('sent_at', hotline.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user.id'], name=op.f('fk_message_author_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['channel_id'], ['channel.id'], name=op.f('fk_message_channel_id_channel')
        ),
        sa.ForeignKeyConstraint(
            ['conversation_id'], ['conversation.id'],
            name=op.f('fk_message_conversation_id_conversation'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
        sa.UniqueConstraint('channel_id', 'event_id', name=op.f('uq_message_channel_id_event_id')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_message_idempotency_key')),
    )
    op.create_index(
        'ix_message_conversation_id_id', 'message', ['conversation_id', 'id'], unique=False
    )
    op.create_index(op.f('ix_message_provider_id'), 'message', ['provider_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_message_provider_id'), table_name='message')
    op.drop_index('ix_message_conversation_id_id', table_name='message')
    op.drop_table('message')
    op.drop_index('uq_conversation_open', table_name='conversation')
    op.drop_index('ix_conversation_last_message_at', table_name='conversation')
    op.drop_index(op.f('ix_conversation_contact_id'), table_name='conversation')
    op.drop_index(op.f('ix_conversation_channel_id'), table_name='conversation')
    op.drop_index(op.f('ix_conversation_case_id'), table_name='conversation')
    op.drop_table('conversation')
    op.drop_table('channel')
