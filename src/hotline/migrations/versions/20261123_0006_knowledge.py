"""knowledge base: articles, their revisions, and full-text search on both engines

Revision ID: 20261123_0006
Revises: 20261123_0005
Create Date: 2026-11-23 13:45:00.000000

Search reads folded (diacritic-free) text kept in article.search_question/search_body.
PostgreSQL: a stored generated tsvector (question weighted A, body B, 'simple' config, so no
extension such as unaccent or pg_trgm is needed) with a GIN index. SQLite: an FTS5 table with
external content, kept in sync by triggers so bulk inserts (imports, demo, benchmarks) are
indexed too. Neither is mapped on the model (see tests/db/test_migrations.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = "20261123_0006"
down_revision = "20261123_0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STATUS = sa.Enum(
    "draft", "published", "archived", name="articlestatus", native_enum=False, length=20
)
_ACTION = sa.Enum(
    "created", "edited", "published", "archived", name="revisionaction", native_enum=False,
    length=20,
)

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE article_fts USING fts5("
    "search_question, search_body, content='article', content_rowid='id')",
    "CREATE TRIGGER article_fts_ai AFTER INSERT ON article BEGIN"
    " INSERT INTO article_fts(rowid, search_question, search_body)"
    " VALUES (new.id, new.search_question, new.search_body); END",
    "CREATE TRIGGER article_fts_ad AFTER DELETE ON article BEGIN"
    " INSERT INTO article_fts(article_fts, rowid, search_question, search_body)"
    " VALUES ('delete', old.id, old.search_question, old.search_body); END",
    "CREATE TRIGGER article_fts_au AFTER UPDATE OF search_question, search_body ON article BEGIN"
    " INSERT INTO article_fts(article_fts, rowid, search_question, search_body)"
    " VALUES ('delete', old.id, old.search_question, old.search_body);"
    " INSERT INTO article_fts(rowid, search_question, search_body)"
    " VALUES (new.id, new.search_question, new.search_body); END",
]


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", _ID, nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("draft_version", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=True),
        sa.Column("source_document", sa.String(length=300), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("search_question", sa.Text(), nullable=False),
        sa.Column("search_body", sa.Text(), nullable=False),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("updated_by_id", _ID, nullable=True),
        sa.Column("created_at", hotline.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hotline.db.UTCDateTime(), nullable=False),
        sa.Column("published_at", hotline.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_article_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_article_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_article_updated_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_article_slug")),
    )
    op.create_index(
        "ix_article_status_category", "article", ["status", "category_code"], unique=False
    )
    op.create_table(
        "article_revision",
        sa.Column("id", _ID, nullable=False),
        sa.Column("article_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", _ACTION, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=True),
        sa.Column("source_document", sa.String(length=300), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("at", hotline.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_article_revision_actor_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_article_revision_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_revision")),
        sa.UniqueConstraint(
            "article_id", "number", name=op.f("uq_article_revision_article_id_number")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple'::regconfig, search_question), 'A') || "
            "setweight(to_tsvector('simple'::regconfig, search_body), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_article_search_vector ON article USING gin (search_vector)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_article_search_vector")
    else:
        for name in ("article_fts_ai", "article_fts_ad", "article_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    op.drop_table("article_revision")
    op.drop_index("ix_article_status_category", table_name="article")
    op.drop_table("article")
