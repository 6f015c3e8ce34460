"""erasure placeholder flag, suppression of erased addresses, retention answers

A candidate's ``erased_at`` (the row stays as "Erased candidate #id" so job counts stay true),
when the retention policy asked them and when they answered "keep"; and the keyed hashes of
erased people's addresses that stop a later import or "New candidate" bringing them back silently.

Revision ID: a7e4c2d9f150
Revises: 7b5e2c9d4a18
Create Date: 2026-12-01 10:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7e4c2d9f150'
down_revision = '7b5e2c9d4a18'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('suppressed_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_suppressed_email_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressed_email')),
    sa.UniqueConstraint('agency_id', 'email_hash', name=op.f('uq_suppressed_email_agency_id_email_hash'))
    )
    with op.batch_alter_table('suppressed_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppressed_email_agency_id'), ['agency_id'], unique=False)
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retention_asked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retention_kept_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('retention_kept_at')
        batch_op.drop_column('retention_asked_at')
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('suppressed_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppressed_email_agency_id'))
    op.drop_table('suppressed_email')
