"""degraded search indexes: the database answers searches while Meilisearch is down (issue 11)

Revision ID: 5e0a3c1d9b27
Revises: b6e00c4e72e0
Create Date: 2026-11-30 19:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e0a3c1d9b27'
down_revision = 'b6e00c4e72e0'
branch_labels = None
depends_on = None


def upgrade():
    # Covering indexes for portal/services/search_database.py: the per-candidate aggregate of the
    # agency's applications, "reached stage" from the history, scorecard verdicts, the newest resume.
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(
            'ix_application_search',
            ['agency_id', 'candidate_id', 'outcome', 'job_id', 'last_activity_at'],
            unique=False,
        )
    with op.batch_alter_table('stage_history', schema=None) as batch_op:
        batch_op.create_index('ix_stage_history_reached', ['application_id', 'to_stage_id'], unique=False)
    with op.batch_alter_table('scorecard', schema=None) as batch_op:
        batch_op.create_index('ix_scorecard_verdict', ['application_id', 'verdict'], unique=False)
    with op.batch_alter_table('resume', schema=None) as batch_op:
        batch_op.create_index('ix_resume_newest', ['candidate_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('resume', schema=None) as batch_op:
        batch_op.drop_index('ix_resume_newest')
    with op.batch_alter_table('scorecard', schema=None) as batch_op:
        batch_op.drop_index('ix_scorecard_verdict')
    with op.batch_alter_table('stage_history', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_history_reached')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('ix_application_search')
