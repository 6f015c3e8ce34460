"""the scoreboard's indexes: client actions by application, and each figure's date by agency (issue 15 item 4)

The scoreboard finds each share's first client action and each interviewed share's hire request
by application; ``activity`` had indexes by job and by candidate only, so both were a scan of the
timeline per share (20,000 applications on SQLite: the conversion figure took 20 s, 0.2 s with the
index). Each figure counts the rows of a period by their own date (shares, stage moves, survey
answers, profile views): an index by agency and date lets the default period (the last 90 days)
read that period only. Figures in bench/README.md.

Revision ID: 7b5e2c9d4a18
Revises: 7c4e2a9d1b35
Create Date: 2026-12-01 10:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "7b5e2c9d4a18"
down_revision = "7c4e2a9d1b35"
branch_labels = None
depends_on = None


INDEXES = [
    ("activity", "ix_activity_application", ["application_id", "verb", "created_at"]),
    ("shared_profile", "ix_shared_profile_shared", ["agency_id", "shared_at"]),
    ("stage_history", "ix_stage_history_moved", ["agency_id", "moved_at"]),
    ("survey_answer", "ix_survey_answer_answered", ["agency_id", "answered_at"]),
    ("profile_view", "ix_profile_view_agency", ["agency_id", "viewed_at"]),
]


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
