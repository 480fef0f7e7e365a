"""case search vector: stored tsvector column for full-text search (PostgreSQL only)

Revision ID: 20261123_0002
Revises: 20261123_0001
Create Date: 2026-11-23 11:25:00.000000

The GIN index on the expression to_tsvector('simple', search_text) made PostgreSQL
recompute to_tsvector for every row it rechecks or filters: prefix terms make GIN's
bitmaps lossy, and "newest first" plans filter rows walked in created_at order. At 1M
cases that cost seconds for common phrases (bench/search.py). A stored generated column
is computed once per write, and the index and the query use it directly.

Adding a STORED generated column rewrites the table: on a large production table run it
in a maintenance window.
"""

from __future__ import annotations

from alembic import op

revision = '20261123_0002'
down_revision = '20261123_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite searches search_text with LIKE; nothing to add.
    op.execute(
        'ALTER TABLE "case" ADD COLUMN search_vector tsvector'
        " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED"
    )
    op.execute('CREATE INDEX ix_case_search_vector ON "case" USING gin (search_vector)')
    op.execute("DROP INDEX IF EXISTS ix_case_search_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_case_search_fts ON \"case\" "
        "USING gin (to_tsvector('simple', search_text))"
    )
    op.execute("DROP INDEX IF EXISTS ix_case_search_vector")
    op.execute('ALTER TABLE "case" DROP COLUMN search_vector')
