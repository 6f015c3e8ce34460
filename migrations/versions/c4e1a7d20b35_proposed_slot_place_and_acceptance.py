"""proposed_slot: the place of an agency-proposed time and when the client accepted it

A counter-proposal carries its location or meeting link, so the client can accept it in one tap
and the interview is confirmed with its place; ``accepted_at`` marks the times the client accepted
(the candidate's scheduling link offers only client-proposed or client-accepted times, issue 13).

Revision ID: c4e1a7d20b35
Revises: c4d7e1a9b2f6
Create Date: 2026-12-01 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1a7d20b35'
down_revision = 'c4d7e1a9b2f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposed_slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('meeting_link', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('proposed_slot', schema=None) as batch_op:
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('meeting_link')
        batch_op.drop_column('location')
