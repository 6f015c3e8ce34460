"""security_event: an append-only log of sign-ins and account changes

Authentication and account events (sign-in, failures, links issued / revealed / redeemed,
logout, password and role changes, deactivation) for the agency's admins (issue 12, SPEC P4).
On PostgreSQL a trigger refuses UPDATE and DELETE of its rows (TRUNCATE, an owner's maintenance
act, is not a row change and stays possible); SQLite has no such guard: the application never
updates or deletes them. login_token.revealed_by_user_id records the staff member a "Copy link"
showed the link to, so a session opened with it is attributed to them.

Revision ID: 9a0bbc198d22
Revises: 5c1f0e9a7b21
Create Date: 2026-11-30 20:55:49.092138

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a0bbc198d22'
down_revision = '5c1f0e9a7b21'
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION security_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade():
    op.create_table('security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_contact_id', sa.Integer(), nullable=True),
    sa.Column('subject_user_id', sa.Integer(), nullable=True),
    sa.Column('subject_contact_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_security_event_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_event'))
    )
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.create_index('ix_security_event_agency', ['agency_id', 'at'], unique=False)

    with op.batch_alter_table('login_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revealed_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_login_token_revealed_by_user_id_user'), 'user', ['revealed_by_user_id'], ['id'], ondelete='SET NULL')

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            'CREATE TRIGGER security_event_append_only BEFORE UPDATE OR DELETE ON security_event '
            'FOR EACH ROW EXECUTE FUNCTION security_event_append_only()'
        )



def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS security_event_append_only ON security_event')
        op.execute('DROP FUNCTION IF EXISTS security_event_append_only()')
    with op.batch_alter_table('login_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_login_token_revealed_by_user_id_user'), type_='foreignkey')
        batch_op.drop_column('revealed_by_user_id')

    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.drop_index('ix_security_event_agency')

    op.drop_table('security_event')
