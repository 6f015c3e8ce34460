"""degraded search reads stored documents and facet values, and finds words through an index (issue 11)

The degraded search reads its page's documents from candidate_search_text and counts facets
from candidate_search_facts.facet_values instead of building documents per request
(search_sync.documents.Stored); the word flags (pdf_only, plain_words) move to the narrow facts
row; words are found through an index where every word character is ASCII (``plain_words``): SQLite's FTS5
(external content, kept by triggers), PostgreSQL's GIN index over a stored generated tsvector of the
text's ASCII letter-and-digit runs (built in: a pg_trgm index was measured and does not help, since a common
word's ILIKE recheck reads nearly every row). Both tables hold derived rows: rebuilt and backfilled.

Revision ID: 7d2e4b9c1a53
Revises: 9a0bbc198d22
Create Date: 2026-12-01 00:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7d2e4b9c1a53"
down_revision = "9a0bbc198d22"
branch_labels = None
depends_on = None

FTS = "candidate_search_fts"
# unicode61 as Python's \w+ splits ASCII text: letters, digits and "_" make words; no diacritics
# folding (Python's lower() keeps them).
FTS_CREATE = f"""
CREATE VIRTUAL TABLE {FTS} USING fts5(
    text, content='candidate_search_text', content_rowid='candidate_id',
    tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
)"""
FTS_TRIGGERS = [
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON candidate_search_text BEGIN
    INSERT INTO {FTS}(rowid, text) VALUES (new.candidate_id, new.text);
END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON candidate_search_text BEGIN
    INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.candidate_id, old.text);
END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF candidate_id, text ON candidate_search_text BEGIN
    INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.candidate_id, old.text);
    INSERT INTO {FTS}(rowid, text) VALUES (new.candidate_id, new.text);
END""",
]
WORDS_INDEX = "ix_candidate_search_text_words"
# As search_sync.facts.WORDS_VECTOR: runs of ASCII letters and digits, lower-cased, every word kept.
WORDS_VECTOR = "strip(to_tsvector('simple'::regconfig, regexp_replace(text, '[^a-zA-Z0-9]+', ' ', 'g')))"


def _create_tables():
    op.create_table(
        "candidate_search_facts",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("has_public", sa.Boolean(), nullable=False),
        sa.Column("has_active", sa.Boolean(), nullable=False),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.Column("max_stage", sa.Integer(), nullable=True),
        sa.Column("positive_ratio", sa.Float(), nullable=True),
        sa.Column("has_strong_no", sa.Boolean(), nullable=False),
        sa.Column("pdf_only", sa.Boolean(), nullable=False),
        sa.Column("plain_words", sa.Boolean(), nullable=True),
        sa.Column("facet_values", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_candidate_search_facts_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_candidate_search_facts_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_candidate_search_facts")),
    )
    with op.batch_alter_table("candidate_search_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_candidate_search_facts_default",
            ["agency_id", "listed", "has_active", sa.text("sort_key DESC"), "candidate_id", "public"],
            unique=False,
        )
        batch_op.create_index(
            "ix_candidate_search_facts_all",
            ["agency_id", "listed", sa.text("sort_key DESC"), "candidate_id", "public"],
            unique=False,
        )
    op.create_table(
        "candidate_search_text",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("document_bytes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_candidate_search_text_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_candidate_search_text_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_candidate_search_text")),
    )
    with op.batch_alter_table("candidate_search_text", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidate_search_text_agency_id"), ["agency_id"], unique=False)


def _drop_tables():
    with op.batch_alter_table("candidate_search_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_search_text_agency_id"))
    op.drop_table("candidate_search_text")
    with op.batch_alter_table("candidate_search_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_candidate_search_facts_all")
        batch_op.drop_index("ix_candidate_search_facts_default")
    op.drop_table("candidate_search_facts")


def upgrade():
    bind = op.get_bind()
    # Both tables hold derived rows only: rebuilt in their new shape and backfilled below.
    _drop_tables()
    _create_tables()
    if bind.dialect.name == "sqlite":
        op.execute(FTS_CREATE)
        for trigger in FTS_TRIGGERS:
            op.execute(trigger)
    elif bind.dialect.name == "postgresql":
        # Stored, not an expression index: a common word matches most rows, and the planner would
        # then recompute the expression for every row (measured: 1.7 s at 10,000 candidates).
        op.execute(f"ALTER TABLE candidate_search_text ADD COLUMN words tsvector GENERATED ALWAYS AS ({WORDS_VECTOR}) STORED")
        op.execute(f"CREATE INDEX {WORDS_INDEX} ON candidate_search_text USING gin (words)")
    # Backfill with the statements the app maintains the rows with (search_sync.facts).
    from search_sync.facts import refresh_all

    refresh_all(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {WORDS_INDEX}")
        op.execute("ALTER TABLE candidate_search_text DROP COLUMN IF EXISTS words")
    with op.batch_alter_table("candidate_search_text", schema=None) as batch_op:
        batch_op.drop_column("document_bytes")
        batch_op.drop_column("document")
        batch_op.add_column(sa.Column("pdf_only", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("candidate_search_facts", schema=None) as batch_op:
        for column in ("facet_values", "plain_words", "pdf_only"):
            batch_op.drop_column(column)
    # pdf_only of the previous shape is refreshed by the previous code's next write of each person.
