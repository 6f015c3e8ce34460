"""the scoreboard's facts: each stay's length and each share's first client answer (issue 15 item 4)

At 100,000 applications the scoreboard ordered every stage move of the period to find where each
stay ended (a ``lead`` window over all moves: 0.7 s for all time on SQLite) and looked up each
share's first client action among the timeline (0.26 s). Both are facts known when the event
happens: ``stage_history.seconds_in_stage`` is written when the next move is recorded and
``shared_profile.first_feedback_at`` when the client first answers (portal/services/scoreboard_facts.py).
This migration adds them, fills them from the history, and makes the two period indexes cover what
the figures read, and adds an index of live shares for the jobs list's count of shared candidates.
Figures in bench/README.md.

Revision ID: c5d8e1f3a926
Revises: a7e4c2d9f150
Create Date: 2026-12-01 13:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5d8e1f3a926"
down_revision = "a7e4c2d9f150"
branch_labels = None
depends_on = None

FEEDBACK_VERBS = "'client.rated', 'client.commented', 'client.interview_requested', 'client.hire_requested', 'client.rejected'"


def _seconds(end: str, start: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start}))) AS INTEGER)"
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400.0) AS INTEGER)"


def upgrade():
    with op.batch_alter_table("stage_history") as batch:
        batch.add_column(sa.Column("seconds_in_stage", sa.Integer(), nullable=True))
    with op.batch_alter_table("shared_profile") as batch:
        batch.add_column(sa.Column("first_feedback_at", sa.DateTime(timezone=True), nullable=True))
    # A CTE: PostgreSQL refuses to lock the rows of a subquery with a window function.
    op.execute(
        "WITH nxt AS (SELECT id, lead(moved_at) OVER (PARTITION BY application_id ORDER BY moved_at, id) AS next_at"
        " FROM stage_history) UPDATE stage_history SET seconds_in_stage = "
        + _seconds("nxt.next_at", "stage_history.moved_at")
        + " FROM nxt WHERE nxt.id = stage_history.id AND nxt.next_at IS NOT NULL"
    )
    op.execute(
        "UPDATE shared_profile SET first_feedback_at = (SELECT min(activity.created_at) FROM activity"
        " WHERE activity.application_id = shared_profile.application_id"
        f" AND activity.verb IN ({FEEDBACK_VERBS}) AND activity.created_at >= shared_profile.shared_at)"
    )
    op.drop_index("ix_stage_history_moved", table_name="stage_history")
    op.create_index(
        "ix_stage_history_stay",
        "stage_history",
        ["agency_id", "moved_at", "to_stage_id", "seconds_in_stage", "application_id"],
    )
    op.drop_index("ix_shared_profile_shared", table_name="shared_profile")
    op.create_index(
        "ix_shared_profile_shared", "shared_profile", ["agency_id", "shared_at", "application_id", "first_feedback_at"]
    )
    live = sa.text("unshared_at IS NULL")
    op.create_index(
        "ix_shared_profile_live", "shared_profile", ["application_id"], sqlite_where=live, postgresql_where=live
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's planner picks the new indexes only with statistics of them (PostgreSQL's
        # autovacuum gathers its own): the whole database, so every table's statistics are of
        # the same day (0.4 s at 100,000 applications).
        op.execute("ANALYZE")


def downgrade():
    op.drop_index("ix_shared_profile_live", table_name="shared_profile")
    op.drop_index("ix_shared_profile_shared", table_name="shared_profile")
    op.create_index("ix_shared_profile_shared", "shared_profile", ["agency_id", "shared_at"])
    op.drop_index("ix_stage_history_stay", table_name="stage_history")
    op.create_index("ix_stage_history_moved", "stage_history", ["agency_id", "moved_at"])
    with op.batch_alter_table("shared_profile") as batch:
        batch.drop_column("first_feedback_at")
    with op.batch_alter_table("stage_history") as batch:
        batch.drop_column("seconds_in_stage")
