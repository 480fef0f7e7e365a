"""care: the end of a patient's follow-up (reason, note, when, by whom), the trail of
changes to a patient's record, and the phone line's hold on a consult request it dials

Revision ID: 20261210_0040
Revises: 20261208_0034
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261210_0040'
down_revision = '20261208_0034'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('care_patient', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'end_reason',
                sa.Enum(
                    'recovered', 'hospitalised', 'died', 'moved', 'other',
                    name='endreason', native_enum=False, length=12,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column('end_note', sa.Text(), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('ended_at', hotline.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('ended_by_id', BIGID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_care_patient_ended_by_id_user'), 'user', ['ended_by_id'], ['id']
        )
    op.add_column(
        'care_consult_request',
        sa.Column('dialling_until', hotline.db.UTCDateTime(), nullable=True),
    )
    op.create_table(
        'care_patient_change',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('patient_id', BIGID, nullable=False),
        sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
        sa.Column('user_id', BIGID, nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('before', JSON, nullable=False),
        sa.Column('after', JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['care_patient.id'],
            name=op.f('fk_care_patient_change_patient_id_care_patient'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_care_patient_change_user_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_patient_change')),
    )
    op.create_index(
        'ix_care_patient_change_patient_id', 'care_patient_change', ['patient_id', 'id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_care_patient_change_patient_id', table_name='care_patient_change')
    op.drop_table('care_patient_change')
    op.drop_column('care_consult_request', 'dialling_until')
    with op.batch_alter_table('care_patient', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_care_patient_ended_by_id_user'), type_='foreignkey'
        )
        batch_op.drop_column('ended_by_id')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('end_note')
        batch_op.drop_column('end_reason')
