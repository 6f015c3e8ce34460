"""Timeline entries are dated at the instant the service was given (``now=``), not the wall clock:
an action done "as of" another time (a scheduled pass, an import, a test) lands on the timeline
then, and the scoreboard's first-answer fact read from those entries follows."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Activity, SharedProfile
from portal.services import client_actions, pipeline, sharing
from portal.services.activity import record, timeline
from tests.factories import make_agency, make_application, make_company, make_contact, make_job, make_user

SHARED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def office(ctx):
    agency = make_agency("actnow")
    admin = make_user(agency, "admin")
    company = make_company(agency)
    contact = make_contact(company)
    application = make_application(make_job(company, admin), shared=False)
    profile = sharing.share_candidate(application, admin, consent_override_reason="Agreed by phone", now=SHARED_AT)
    db.session.flush()
    return agency, admin, contact, application, profile


def dated(application_id: int) -> dict[str, list[datetime]]:
    """When each of the application's timeline entries happened, read back from the database."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Activity.verb, Activity.created_at)
        .where(Activity.application_id == application_id)
        .order_by(Activity.created_at, Activity.id)
    )
    entries: dict[str, list[datetime]] = {}
    for verb, created_at in rows:
        entries.setdefault(verb, []).append(created_at)
    return entries


def test_client_answers_are_dated_at_the_services_now_and_start_the_shares_clock(office):
    _agency, _admin, contact, application, profile = office
    rated_at, rejected_at = SHARED_AT + timedelta(days=2, hours=3), SHARED_AT + timedelta(days=5)
    client_actions.rate(contact, application, 4, now=rated_at)
    client_actions.reject(contact, application, now=rejected_at)
    db.session.flush()
    entries = dated(application.id)
    assert entries["candidate.shared"] == [SHARED_AT]
    assert entries["client.rated"] == [rated_at]
    assert entries["client.rejected"] == [rejected_at]
    first = db.session.scalar(select(SharedProfile.first_feedback_at).where(SharedProfile.id == profile.id))
    assert first == rated_at


def test_a_rejection_alone_is_the_first_answer_at_its_now(office):
    _agency, _admin, contact, application, profile = office
    rejected_at = SHARED_AT + timedelta(days=4, minutes=30)
    client_actions.reject(contact, application, now=rejected_at)
    db.session.flush()
    assert dated(application.id)["client.rejected"] == [rejected_at]
    first = db.session.scalar(select(SharedProfile.first_feedback_at).where(SharedProfile.id == profile.id))
    assert first == rejected_at


def test_stage_moves_are_dated_at_their_now_and_the_timeline_follows_those_dates(office):
    agency, admin, _contact, application, _profile = office
    later, earlier = SHARED_AT + timedelta(days=9), SHARED_AT + timedelta(days=6)
    # Written in the opposite order to when they happened, as an import of past history is.
    pipeline.move_stage(application, agency.stages[3].id, admin, now=later)
    pipeline.move_stage(application, agency.stages[4].id, admin, now=earlier)
    db.session.flush()
    assert dated(application.id)["stage.moved"] == [earlier, later]
    newest_first = [(entry.verb, entry.created_at) for entry in timeline(admin, candidate_id=application.candidate_id)]
    assert newest_first == [("stage.moved", later), ("stage.moved", earlier), ("candidate.shared", SHARED_AT)]


def test_without_now_an_entry_is_dated_by_the_clock(ctx, time_machine):
    instant = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)
    time_machine.move_to(instant, tick=False)
    agency = make_agency("clock")
    entry = record(agency.id, "admin.test", "A plain entry")
    given = record(agency.id, "admin.test", "An entry as of another time", now=instant - timedelta(days=3))
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Activity, entry.id).created_at == instant
    assert db.session.get(Activity, given.id).created_at == instant - timedelta(days=3)
    assert db.session.get(Activity, given.id).detail == {}
