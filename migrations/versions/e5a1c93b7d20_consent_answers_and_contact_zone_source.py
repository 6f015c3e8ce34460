"""consent_record: requested/given/declined answers with their channel; client_contact: who chose the zone

"Ask the candidate" (issue 14) e-mails a link whose row is ``requested`` until the candidate
answers; declines are kept beside consents so the share guard can show them. A client contact's
zone is filled from the browser only while nobody has chosen it (``timezone_source`` is null).

Revision ID: e5a1c93b7d20
Revises: e5a1c7b3d902
Create Date: 2026-12-01 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1c93b7d20'
down_revision = 'e5a1c7b3d902'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='given', nullable=False))
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('given_at', existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f('ck_consent_record_status'), "status IN ('requested', 'given', 'declined')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_consent_record_channel'), "channel IN ('email', 'phone', 'in_person', 'written', 'link')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_consent_record_answered_at'), "status = 'requested' OR given_at IS NOT NULL"
        )
    with op.batch_alter_table('client_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone_source', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_client_contact_timezone_source'), "timezone_source IN ('browser', 'contact', 'staff')"
        )
    # A zone other than the default was chosen by someone (staff or the demo): keep it.
    op.execute("UPDATE client_contact SET timezone_source = 'staff' WHERE timezone <> 'UTC'")


def downgrade():
    with op.batch_alter_table('client_contact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_client_contact_timezone_source'), type_='check')
        batch_op.drop_column('timezone_source')
    op.execute("DELETE FROM consent_record WHERE status <> 'given'")
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_consent_record_answered_at'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_consent_record_channel'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_consent_record_status'), type_='check')
        batch_op.alter_column('given_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column('requested_at')
        batch_op.drop_column('channel')
        batch_op.drop_column('status')
