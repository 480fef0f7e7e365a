"""Home care: doctors and their windows, followed patients, check-ins and their slots,
facilities with beds, admission requests

Revision ID: 20261205_0026
Revises: 20261206_0024
Create Date: 2026-12-05 03:42:45.791268
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

import hotline.db

revision = '20261205_0026'
down_revision = '20261206_0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('care_doctor',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('specialty', sa.String(length=120), nullable=False),
    sa.Column('years_experience', sa.Integer(), nullable=False),
    sa.Column('licence_number', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('consult', sa.Boolean(), nullable=False),
    sa.Column('proactive', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('patient_count', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_care_doctor_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_care_doctor'))
    )
    op.create_table('care_facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('ward_code', sa.String(length=8), nullable=True),
    sa.Column('beds_total', sa.Integer(), nullable=False),
    sa.Column('beds_free', sa.Integer(), nullable=False),
    sa.Column('oxygen_beds_total', sa.Integer(), nullable=False),
    sa.Column('oxygen_beds_free', sa.Integer(), nullable=False),
    sa.Column('icu_beds_total', sa.Integer(), nullable=False),
    sa.Column('icu_beds_free', sa.Integer(), nullable=False),
    sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_care_facility_unit_id_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_care_facility_updated_by_id_user')),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code'], name=op.f('fk_care_facility_ward_code_ward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_facility'))
    )
    op.create_index(op.f('ix_care_facility_unit_id'), 'care_facility', ['unit_id'], unique=False)
    op.create_table('care_doctor_window',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group', sa.Enum('consult', 'proactive', name='doctorgroup', native_enum=False, length=12), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('start_minute', sa.SmallInteger(), nullable=False),
    sa.Column('end_minute', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['care_doctor.user_id'], name=op.f('fk_care_doctor_window_user_id_care_doctor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_doctor_window'))
    )
    op.create_index('ix_care_doctor_window_group_weekday', 'care_doctor_window', ['group', 'weekday'], unique=False)
    op.create_index(op.f('ix_care_doctor_window_user_id'), 'care_doctor_window', ['user_id'], unique=False)
    op.create_table('care_patient',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.Enum('F0', 'F1', name='patientstatus', native_enum=False, length=4), nullable=False),
    sa.Column('national_id', sa.String(length=20), nullable=True),
    sa.Column('age', sa.SmallInteger(), nullable=True),
    sa.Column('test_date', sa.Date(), nullable=True),
    sa.Column('test_type', sa.String(length=20), nullable=True),
    sa.Column('vaccine_doses', sa.SmallInteger(), nullable=False),
    sa.Column('last_dose_date', sa.Date(), nullable=True),
    sa.Column('comorbidities', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('comorbidities_stable', sa.Boolean(), nullable=False),
    sa.Column('pregnant', sa.Boolean(), nullable=False),
    sa.Column('can_self_care', sa.Boolean(), nullable=False),
    sa.Column('has_carer', sa.Boolean(), nullable=False),
    sa.Column('ward_code', sa.String(length=8), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('eligibility', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('doctor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('state', sa.Enum('active', 'admitted', 'ended', name='carestate', native_enum=False, length=12), nullable=False),
    sa.Column('risk_rank', sa.Integer(), nullable=False),
    sa.Column('last_checkin_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('last_result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('urgent_case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('slots_until', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('link_nonce', sa.String(length=32), nullable=False),
    sa.Column('registered_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_care_patient_case_id_case')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_care_patient_contact_id_contact')),
    sa.ForeignKeyConstraint(['doctor_id'], ['user.id'], name=op.f('fk_care_patient_doctor_id_user')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['user.id'], name=op.f('fk_care_patient_registered_by_id_user')),
    sa.ForeignKeyConstraint(['urgent_case_id'], ['case.id'], name=op.f('fk_care_patient_urgent_case_id_case')),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code'], name=op.f('fk_care_patient_ward_code_ward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_patient'))
    )
    op.create_index(op.f('ix_care_patient_contact_id'), 'care_patient', ['contact_id'], unique=False)
    op.create_index('ix_care_patient_doctor_state_rank', 'care_patient', ['doctor_id', 'state', 'risk_rank'], unique=False)
    op.create_index('ix_care_patient_slots_until', 'care_patient', ['state', 'slots_until'], unique=False)
    op.create_table('care_admission',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('patient_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('bed_kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.Enum('requested', 'accepted', 'refused', 'admitted', 'cancelled', name='admissionstatus', native_enum=False, length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('answered_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_care_admission_answered_by_id_user')),
    sa.ForeignKeyConstraint(['facility_id'], ['care_facility.id'], name=op.f('fk_care_admission_facility_id_care_facility')),
    sa.ForeignKeyConstraint(['patient_id'], ['care_patient.id'], name=op.f('fk_care_admission_patient_id_care_patient'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_care_admission_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_admission'))
    )
    op.create_index(op.f('ix_care_admission_facility_id'), 'care_admission', ['facility_id'], unique=False)
    op.create_index(op.f('ix_care_admission_patient_id'), 'care_admission', ['patient_id'], unique=False)
    op.create_table('care_checkin',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('patient_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('spo2', sa.SmallInteger(), nullable=True),
    sa.Column('respiratory_rate', sa.SmallInteger(), nullable=True),
    sa.Column('pulse', sa.SmallInteger(), nullable=True),
    sa.Column('temperature', sa.Float(), nullable=True),
    sa.Column('systolic_bp', sa.SmallInteger(), nullable=True),
    sa.Column('diastolic_bp', sa.SmallInteger(), nullable=True),
    sa.Column('consciousness', sa.String(length=12), nullable=True),
    sa.Column('on_oxygen', sa.Boolean(), nullable=False),
    sa.Column('symptoms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('news2', sa.SmallInteger(), nullable=False),
    sa.Column('warning_signs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('tier', sa.String(length=8), nullable=False),
    sa.Column('risk', sa.String(length=8), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('rule_set_version', sa.String(length=120), nullable=False),
    sa.Column('case_code', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['by_user_id'], ['user.id'], name=op.f('fk_care_checkin_by_user_id_user')),
    sa.ForeignKeyConstraint(['patient_id'], ['care_patient.id'], name=op.f('fk_care_checkin_patient_id_care_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_checkin'))
    )
    op.create_index('ix_care_checkin_patient_at', 'care_checkin', ['patient_id', 'at'], unique=False)
    op.create_table('care_checkin_slot',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('patient_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('due_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('state', sa.Enum('due', 'done', 'reminded', 'missed', name='slotstate', native_enum=False, length=10), nullable=False),
    sa.Column('checkin_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reminded_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('alerted_at', hotline.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['checkin_id'], ['care_checkin.id'], name=op.f('fk_care_checkin_slot_checkin_id_care_checkin'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['care_patient.id'], name=op.f('fk_care_checkin_slot_patient_id_care_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_checkin_slot')),
    sa.UniqueConstraint('patient_id', 'due_at', name=op.f('uq_care_checkin_slot_patient_id_due_at'))
    )
    op.create_index('ix_care_checkin_slot_state_due_at', 'care_checkin_slot', ['state', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_care_checkin_slot_state_due_at', table_name='care_checkin_slot')
    op.drop_table('care_checkin_slot')
    op.drop_index('ix_care_checkin_patient_at', table_name='care_checkin')
    op.drop_table('care_checkin')
    op.drop_index(op.f('ix_care_admission_patient_id'), table_name='care_admission')
    op.drop_index(op.f('ix_care_admission_facility_id'), table_name='care_admission')
    op.drop_table('care_admission')
    op.drop_index('ix_care_patient_slots_until', table_name='care_patient')
    op.drop_index('ix_care_patient_doctor_state_rank', table_name='care_patient')
    op.drop_index(op.f('ix_care_patient_contact_id'), table_name='care_patient')
    op.drop_table('care_patient')
    op.drop_index(op.f('ix_care_doctor_window_user_id'), table_name='care_doctor_window')
    op.drop_index('ix_care_doctor_window_group_weekday', table_name='care_doctor_window')
    op.drop_table('care_doctor_window')
    op.drop_index(op.f('ix_care_facility_unit_id'), table_name='care_facility')
    op.drop_table('care_facility')
    op.drop_table('care_doctor')
