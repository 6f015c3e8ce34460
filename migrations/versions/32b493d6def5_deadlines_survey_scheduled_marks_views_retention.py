"""decision deadlines, no-ghosting dates, the candidate survey, scheduled marks, profile views, retention settings

The shared ground of issues 15 and 16: a share's "please decide by" (agency default in working days,
a job's override, the agency's holidays), when a candidate must have been told where they stand, a
candidate's one answer to "How were you treated?", the keys that make each scheduled reminder
happen once, every client view of a profile or resume, the agency's retention policy, the
append-only audit log of staff actions on personal data, and the two new task types.

Revision ID: 32b493d6def5
Revises: f2a6c9e4b1d8
Create Date: 2026-12-01 09:33:03.356257

"""
from alembic import op
import sqlalchemy as sa

OLD_TASK_TYPES = "type IN ('organise_interview', 'process_offer', 'send_feedback', 'follow_up')"
NEW_TASK_TYPES = (
    "type IN ('organise_interview', 'process_offer', 'send_feedback', 'follow_up', 'chase_feedback',"
    " 'inform_candidate')"
)
AUDIT_ACTIONS = (
    "action IN ('candidate_exported', 'candidate_erased', 'candidate_anonymised', 'suppression_overridden',"
    " 'import_run', 'role_changed', 'retention_changed')"
)
APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


# revision identifiers, used by Alembic.
revision = '32b493d6def5'
down_revision = 'f2a6c9e4b1d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('subject_user_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.CheckConstraint(AUDIT_ACTIONS, name=op.f('ck_audit_entry_action')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_audit_entry_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_agency', ['agency_id', 'at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            'CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry '
            'FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()'
        )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_task_type'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_task_type'), NEW_TASK_TYPES)

    op.create_table('agency_holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_holiday_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_holiday')),
    sa.UniqueConstraint('agency_id', 'day', name=op.f('uq_agency_holiday_agency_id_day'))
    )
    with op.batch_alter_table('agency_holiday', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_holiday_agency_id'), ['agency_id'], unique=False)

    op.create_table('scheduled_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_scheduled_mark_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_mark')),
    sa.UniqueConstraint('agency_id', 'key', name=op.f('uq_scheduled_mark_agency_id_key'))
    )
    with op.batch_alter_table('scheduled_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_mark_agency_id'), ['agency_id'], unique=False)

    op.create_table('profile_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('resume_id', sa.Integer(), nullable=True),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('profile', 'resume_view', 'resume_download')", name=op.f('ck_profile_view_kind')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_profile_view_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_profile_view_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['client_contact.id'], name=op.f('fk_profile_view_contact_id_client_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resume_id'], ['resume.id'], name=op.f('fk_profile_view_resume_id_resume'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_view'))
    )
    with op.batch_alter_table('profile_view', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_view_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_profile_view_application', ['application_id', 'viewed_at'], unique=False)

    op.create_table('survey_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_survey_answer_score')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_survey_answer_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_survey_answer_application_id_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
    sa.UniqueConstraint('application_id', name=op.f('uq_survey_answer_application_id'))
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answer_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_due_working_days', sa.Integer(), server_default='5', nullable=False))
        batch_op.add_column(sa.Column('feedback_chase_grace_days', sa.Integer(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('inform_days_after_interview', sa.Integer(), server_default='45', nullable=False))
        batch_op.add_column(sa.Column('inform_days_after_decision', sa.Integer(), server_default='5', nullable=False))
        batch_op.add_column(sa.Column('retention_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), server_default='24', nullable=False))
        batch_op.add_column(sa.Column('retention_answer_days', sa.Integer(), server_default='30', nullable=False))
        for name, check in (
            ('feedback_due_range', 'feedback_due_working_days BETWEEN 1 AND 60'),
            ('chase_grace_range', 'feedback_chase_grace_days BETWEEN 0 AND 30'),
            ('inform_interview_range', 'inform_days_after_interview BETWEEN 1 AND 365'),
            ('inform_decision_range', 'inform_days_after_decision BETWEEN 1 AND 90'),
            ('retention_months_range', 'retention_months BETWEEN 1 AND 240'),
            ('retention_answer_range', 'retention_answer_days BETWEEN 1 AND 365'),
        ):
            batch_op.create_check_constraint(batch_op.f(f'ck_agency_{name}'), check)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inform_by_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('candidate_informed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_due_working_days', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_job_feedback_due_range'), 'feedback_due_working_days BETWEEN 1 AND 60'
        )

    with op.batch_alter_table('shared_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_due_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_task_type'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_task_type'), OLD_TASK_TYPES)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry')
        op.execute('DROP FUNCTION IF EXISTS audit_entry_append_only()')
    op.drop_table('audit_entry')
    with op.batch_alter_table('shared_profile', schema=None) as batch_op:
        batch_op.drop_column('feedback_due_at')

    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_job_feedback_due_range'), type_='check')
        batch_op.drop_column('feedback_due_working_days')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('candidate_informed_at')
        batch_op.drop_column('inform_by_at')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        for name in ('feedback_due_range', 'chase_grace_range', 'inform_interview_range', 'inform_decision_range',
                     'retention_months_range', 'retention_answer_range'):
            batch_op.drop_constraint(batch_op.f(f'ck_agency_{name}'), type_='check')
        batch_op.drop_column('retention_answer_days')
        batch_op.drop_column('retention_months')
        batch_op.drop_column('retention_enabled')
        batch_op.drop_column('inform_days_after_decision')
        batch_op.drop_column('inform_days_after_interview')
        batch_op.drop_column('feedback_chase_grace_days')
        batch_op.drop_column('feedback_due_working_days')

    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answer_agency_id'))

    op.drop_table('survey_answer')
    with op.batch_alter_table('profile_view', schema=None) as batch_op:
        batch_op.drop_index('ix_profile_view_application')
        batch_op.drop_index(batch_op.f('ix_profile_view_agency_id'))

    op.drop_table('profile_view')
    with op.batch_alter_table('scheduled_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_mark_agency_id'))

    op.drop_table('scheduled_mark')
    with op.batch_alter_table('agency_holiday', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_holiday_agency_id'))

    op.drop_table('agency_holiday')
