"""shared_profile.show_contact_details: contact details withheld by a typed flag, not by labels

Each profile line gets typed ``hidden`` and ``contact`` flags and the label list
``hidden_fields`` goes. Backfill: a line is hidden when its label was in ``hidden_fields``; it is
a contact line when its text holds one of the candidate's e-mail addresses or phone number. A
share shows contact details before hire only where the recruiter had left such a line visible
(the one explicit choice the old data records); everywhere else they stay hidden until hire (C5).

Revision ID: 5c0e7a1d2b93
Revises: d76e2b6b7802
Create Date: 2026-11-24 09:00:00.000000

"""
import json
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c0e7a1d2b93'
down_revision = 'd76e2b6b7802'
branch_labels = None
depends_on = None

# The same test as portal/services/client_profile.py, frozen here as of this revision.
PHONE_RUN = re.compile(r"\+?\d[\d\s().\-/]{4,}\d")


def _mentions_contact(text, emails, phone_digits):
    lowered = (text or "").lower()
    if any(email in lowered for email in emails):
        return True
    if not phone_digits:
        return False
    return any(re.sub(r"\D", "", run.group()).endswith(phone_digits[-9:]) for run in PHONE_RUN.finditer(text or ""))


def _as_list(value):
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def upgrade():
    with op.batch_alter_table('shared_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_contact_details', sa.Boolean(), server_default=sa.false(), nullable=False))

    bind = op.get_bind()
    profile = sa.table(
        'shared_profile',
        sa.column('id', sa.Integer),
        sa.column('application_id', sa.Integer),
        sa.column('fields', sa.JSON),
        sa.column('hidden_fields', sa.JSON),
        sa.column('show_contact_details', sa.Boolean),
    )
    application = sa.table('application', sa.column('id', sa.Integer), sa.column('candidate_id', sa.Integer))
    candidate = sa.table('candidate', sa.column('id', sa.Integer), sa.column('phone', sa.String))
    candidate_email = sa.table('candidate_email', sa.column('candidate_id', sa.Integer), sa.column('email', sa.String))
    rows = bind.execute(
        sa.select(profile.c.id, profile.c.fields, profile.c.hidden_fields, candidate.c.id, candidate.c.phone)
        .join(application, application.c.id == profile.c.application_id)
        .join(candidate, candidate.c.id == application.c.candidate_id)
    ).all()
    for profile_id, fields, hidden_fields, candidate_id, phone in rows:
        emails = [e.lower() for e in bind.scalars(
            sa.select(candidate_email.c.email).where(candidate_email.c.candidate_id == candidate_id)
        ) if e]
        digits = re.sub(r"\D", "", phone or "")
        hidden = {str(name).strip().lower() for name in _as_list(hidden_fields)}
        lines, any_contact, hidden_contact = [], False, False
        for item in _as_list(fields):
            label, value = str(item.get('label') or ''), str(item.get('value') or '')
            line_hidden = label.strip().lower() in hidden or str(item.get('key') or '').lower() in hidden
            contact = _mentions_contact(value, emails, digits if len(digits) >= 5 else None)
            any_contact, hidden_contact = any_contact or contact, hidden_contact or (contact and line_hidden)
            lines.append({'label': label, 'value': value, 'hidden': line_hidden, 'contact': contact})
        bind.execute(
            profile.update()
            .where(profile.c.id == profile_id)
            # Shown only when the recruiter left every contact line visible and hid neither
            # placeholder: one hidden contact line means they wanted contact details withheld.
            .values(fields=lines, show_contact_details=any_contact and not hidden_contact and not {'email', 'phone'} & hidden)
        )

    with op.batch_alter_table('shared_profile', schema=None) as batch_op:
        batch_op.drop_column('hidden_fields')


def downgrade():
    with op.batch_alter_table('shared_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_fields', sa.JSON(), nullable=True))

    bind = op.get_bind()
    profile = sa.table(
        'shared_profile',
        sa.column('id', sa.Integer),
        sa.column('fields', sa.JSON),
        sa.column('hidden_fields', sa.JSON),
        sa.column('show_contact_details', sa.Boolean),
    )
    for profile_id, fields, show in bind.execute(
        sa.select(profile.c.id, profile.c.fields, profile.c.show_contact_details)
    ).all():
        lines = _as_list(fields)
        # The old page hid its own e-mail and phone rows only for these labels.
        hidden = [line['label'] for line in lines if line.get('hidden') or (line.get('contact') and not show)]
        hidden += [] if show else ['email', 'phone']
        plain = [{'label': line['label'], 'value': line['value']} for line in lines]
        bind.execute(profile.update().where(profile.c.id == profile_id).values(fields=plain, hidden_fields=hidden))

    with op.batch_alter_table('shared_profile', schema=None) as batch_op:
        batch_op.alter_column('hidden_fields', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('show_contact_details')
