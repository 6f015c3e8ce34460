"""mail_outbox.reply_to: candidates' replies reach the job owner

Revision ID: c4d7e1a9b2f6
Revises: 7d2e4b9c1a53
Create Date: 2026-12-01 00:10:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c4d7e1a9b2f6"
down_revision = "7d2e4b9c1a53"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=400), nullable=True))


def downgrade():
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
