"""mail_outbox: a 'sending' state with a lease, so SMTP runs outside any transaction

A worker claims a message (status 'sending', lease_until set) in one short transaction, talks to
the SMTP server with no transaction open, and records the result in another. A message left in
'sending' past its lease belonged to a worker that died mid-send; another worker takes it over.

Revision ID: b6e00c4e72e0
Revises: 5c0e7a1d2b93
Create Date: 2026-12-01 09:00:00.000000

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6e00c4e72e0'
down_revision = '5c0e7a1d2b93'
branch_labels = None
depends_on = None


def upgrade():
    with _alert_mail_links_kept():
        with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
            batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
            batch_op.drop_constraint(batch_op.f('ck_mail_outbox_status'), type_='check')
            batch_op.create_check_constraint(
                batch_op.f('ck_mail_outbox_status'), "status IN ('pending', 'sending', 'sent', 'failed')"
            )


def downgrade():
    # A message caught mid-send goes back to the queue: the old schema has no such state.
    op.execute("UPDATE mail_outbox SET status = 'pending' WHERE status = 'sending'")
    with _alert_mail_links_kept():
        with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_mail_outbox_status'), type_='check')
            batch_op.create_check_constraint(
                batch_op.f('ck_mail_outbox_status'), "status IN ('pending', 'sent', 'failed')"
            )
            batch_op.drop_column('lease_until')


@contextmanager
def _alert_mail_links_kept():
    """SQLite cannot alter a CHECK constraint in place, so batch mode copies the table and drops
    the old one. With foreign keys on, that DROP deletes every row first, which sets each
    ``alert.mail_id`` to NULL (ON DELETE SET NULL): an Undo could then no longer withdraw its
    email. The links are noted before the copy and put back after it. PostgreSQL alters in place."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    links = [dict(row._mapping) for row in bind.execute(sa.text('SELECT id, mail_id FROM alert WHERE mail_id IS NOT NULL'))]
    yield
    if links:
        bind.execute(sa.text('UPDATE alert SET mail_id = :mail_id WHERE id = :id'), links)
