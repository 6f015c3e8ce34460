"""The audit log (``portal.services.audit``): entries are added with the action they describe,
hold no text about the person, and PostgreSQL refuses to change or delete them."""

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from portal.models import AuditEntry, utcnow
from portal.services.audit import record_audit
from tests.conftest import TEST_DATABASE
from tests.factories import make_agency, make_user


def test_an_entry_names_actor_action_and_person_by_id(ctx):
    agency = make_agency()
    admin = make_user(agency, role="admin")
    now = utcnow()
    record_audit("candidate_exported", agency_id=agency.id, actor=admin, candidate_id=41, now=now, files=2)
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_user_id, entry.candidate_id, entry.detail) == (
        "candidate_exported",
        admin.id,
        41,
        {"files": 2},
    )


@pytest.mark.parametrize(
    ("action", "detail", "message"),
    [("candidate_read", {}, "unknown audit action"), ("candidate_erased", {"name": "Ada"}, "never text")],
)
def test_unknown_actions_and_text_are_refused(ctx, action, detail, message):
    with pytest.raises(ValueError, match=message):
        record_audit(action, agency_id=make_agency().id, **detail)


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_postgresql_refuses_changing_or_deleting_an_entry(ctx):
    agency = make_agency()
    record_audit("import_run", agency_id=agency.id, rows=3)
    db.session.commit()
    for statement in (update(AuditEntry).values(action="role_changed"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
