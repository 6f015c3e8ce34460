"""PostgreSQL: the word vectors in a narrow table of their own, so a common word reads 6 MB, not 92 (issue 11)

A common word (one most of an agency's candidates have) makes the planner read every row of the
word vectors. In ``candidate_search_text`` they sit beside the text and the stored document:
a sequential scan read 92 MB at 10,000 candidates (≈ 37 ms on an otherwise idle box, far more under
load). ``candidate_search_words`` holds only candidate, agency and the vector (≈ 6 MB; ≈ 8 ms),
copied by a trigger on every insert and update of ``candidate_search_text`` (the generated column
is computed before AFTER triggers run) and deleted with it (foreign key, cascade). SQLite keeps its
FTS5 table: nothing to do there.

Revision ID: f2a6c9e4b1d8
Revises: e8b3d5a1c7f2
Create Date: 2026-12-01 04:55:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f2a6c9e4b1d8"
down_revision = "e8b3d5a1c7f2"
branch_labels = None
depends_on = None

TABLE = "candidate_search_words"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE TABLE {TABLE} (
            candidate_id integer PRIMARY KEY
                REFERENCES candidate_search_text (candidate_id) ON DELETE CASCADE ON UPDATE CASCADE,
            agency_id integer NOT NULL,
            words tsvector NOT NULL
        )""")
    op.execute(
        f"INSERT INTO {TABLE} (candidate_id, agency_id, words)"
        " SELECT candidate_id, agency_id, words FROM candidate_search_text"
    )
    op.execute(f"CREATE INDEX ix_{TABLE}_words ON {TABLE} USING gin (words)")
    op.execute(f"""
        CREATE FUNCTION {TABLE}_copy() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {TABLE} (candidate_id, agency_id, words) VALUES (NEW.candidate_id, NEW.agency_id, NEW.words)
            ON CONFLICT (candidate_id) DO UPDATE SET agency_id = EXCLUDED.agency_id, words = EXCLUDED.words;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER {TABLE}_copy AFTER INSERT OR UPDATE ON candidate_search_text
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_copy()""")
    op.execute(f"ANALYZE {TABLE}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_copy ON candidate_search_text")
    op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_copy()")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
