"""saved_search: a recruiter's named searches, re-run from a list on the search page

Each row belongs to one user of one agency; a name is unique per user, compared without case
(``name_key``), so "Python London" cannot be saved twice under two spellings.

Revision ID: e3b9d14a7c52
Revises: c4e1a7d20b35
Create Date: 2026-12-01 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3b9d14a7c52'
down_revision = 'c4e1a7d20b35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_search',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('name_key', sa.String(length=80), nullable=False),
        sa.Column('query', sa.String(length=2000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['agency_id'], ['agency.id'], name=op.f('fk_saved_search_agency_id_agency'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_saved_search_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search')),
        sa.UniqueConstraint('user_id', 'name_key', name=op.f('uq_saved_search_user_id_name_key')),
    )
    with op.batch_alter_table('saved_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_search_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_search_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('saved_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_search_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_search_agency_id'))
    op.drop_table('saved_search')
