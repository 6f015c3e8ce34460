"""PostgreSQL: copy the word vector only when it changes, not on every write of the stored document (issue 11)

``candidate_search_words`` (the narrow copy of the word vectors, migration f2a6c9e4b1d8) was
rewritten by its trigger on every update of ``candidate_search_text``, and a candidate's row there
is rewritten whenever their document changes (a new application, a stage move, a rating: the text,
and so the vector, seldom changes). Each rewrite left a dead row version and a new GIN entry: at
10,000 candidates the benchmark's table held twice its live rows (1,399 pages instead of 704), which
every degraded search with a common word reads in full. An insert still copies; an update copies
only when the vector or the agency differs.

Revision ID: b7d3f1a9c2e4
Revises: c5d8e1f3a926
Create Date: 2026-12-01 13:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d3f1a9c2e4"
down_revision = "c5d8e1f3a926"
branch_labels = None
depends_on = None

TABLE = "candidate_search_words"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER {TABLE}_copy ON candidate_search_text")
    op.execute(f"""
        CREATE TRIGGER {TABLE}_copy AFTER INSERT ON candidate_search_text
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_copy()""")
    # AFTER triggers see the generated column computed: NEW.words is the new vector.
    op.execute(f"""
        CREATE TRIGGER {TABLE}_copy_changed AFTER UPDATE ON candidate_search_text
        FOR EACH ROW
        WHEN (OLD.words IS DISTINCT FROM NEW.words OR OLD.agency_id IS DISTINCT FROM NEW.agency_id)
        EXECUTE FUNCTION {TABLE}_copy()""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER {TABLE}_copy_changed ON candidate_search_text")
    op.execute(f"DROP TRIGGER {TABLE}_copy ON candidate_search_text")
    op.execute(f"""
        CREATE TRIGGER {TABLE}_copy AFTER INSERT OR UPDATE ON candidate_search_text
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_copy()""")
