"""ended_session: a signed-out cookie (and every copy of it) is refused

Revision ID: 5c1e0a7d9b3f
Revises: 5e0a3c1d9b27
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e0a7d9b3f'
down_revision = '5e0a3c1d9b27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ended_session',
        sa.Column('id', sa.String(length=43), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ended_session')),
    )
    with op.batch_alter_table('ended_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ended_session_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ended_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ended_session_expires_at'))
    op.drop_table('ended_session')
