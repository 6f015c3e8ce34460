"""note: recruiters' notes on candidates and jobs

A note belongs to exactly one candidate or one job (checked), names its author, and is shown with
its time on that candidate's or job's page and timeline (issue 14, item 1).

Revision ID: e5a1c7b3d902
Revises: e3b9d14a7c52
Create Date: 2026-12-01 04:04:12.471805

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1c7b3d902'
down_revision = 'e3b9d14a7c52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(candidate_id IS NULL) <> (job_id IS NULL)', name=op.f('ck_note_one_subject')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_note_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_note_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_note_candidate_id_candidate'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_note_job_id_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note'))
    )
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_note_candidate', ['agency_id', 'candidate_id', 'created_at'], unique=False)
        batch_op.create_index('ix_note_job', ['agency_id', 'job_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.drop_index('ix_note_job')
        batch_op.drop_index('ix_note_candidate')
        batch_op.drop_index(batch_op.f('ix_note_agency_id'))

    op.drop_table('note')
