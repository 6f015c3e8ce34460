"""sign_in_request and login_throttle: uniform client sign-in, per-account back-off

sign_in_request queues a client's request for a sign-in link as typed, so the web request does
the same work for known and unknown addresses and the worker decides (issue 12). login_throttle
replaces the per-address rate limit that let anyone lock a staff member out with ten wrong
passwords: failures per address (hashed) and the time the next attempt is allowed.

Revision ID: 907bf99774d1
Revises: 5c1e0a7d9b3f
Create Date: 2026-11-30 19:35:51.120209

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '907bf99774d1'
down_revision = '5c1e0a7d9b3f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('next_allowed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_updated_at'), ['updated_at'], unique=False)

    op.create_table('sign_in_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_sign_in_request_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_request'))
    )
    with op.batch_alter_table('sign_in_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_request_agency_id'), ['agency_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sign_in_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_request_agency_id'))

    op.drop_table('sign_in_request')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_updated_at'))

    op.drop_table('login_throttle')
