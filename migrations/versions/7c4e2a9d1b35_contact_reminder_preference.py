"""client_contact: decision reminder e-mails on, snoozed until a date, or off

Issue 15's reminders honour each contact's choice, made on their settings page or by the one-click
unsubscribe link in a reminder.

Revision ID: 7c4e2a9d1b35
Revises: 32b493d6def5
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e2a9d1b35'
down_revision = '32b493d6def5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders', sa.String(length=8), server_default='on', nullable=False))
        batch_op.add_column(sa.Column('reminders_snoozed_until', sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_client_contact_reminders'), "reminders IN ('on', 'snoozed', 'off')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_client_contact_reminders_snooze_date'),
            "reminders <> 'snoozed' OR reminders_snoozed_until IS NOT NULL",
        )


def downgrade():
    with op.batch_alter_table('client_contact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_client_contact_reminders_snooze_date'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_client_contact_reminders'), type_='check')
        batch_op.drop_column('reminders_snoozed_until')
        batch_op.drop_column('reminders')
