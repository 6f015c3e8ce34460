"""The one owner of an application's client status (portal/services/application_status.py)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import SearchOutbox
from portal.models.applications import CLIENT_STATUSES
from portal.services import application_status
from portal.services.application_status import TRANSITIONS
from tests.factories import make_tenant

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def application(ctx):
    return make_tenant("statusco").application


def queued_candidates() -> list[int]:
    return list(db.session.scalars(select(SearchOutbox.entity_id).where(SearchOutbox.entity == "candidate")))


def test_the_table_has_a_row_for_every_status_and_names_only_known_ones():
    assert set(TRANSITIONS) == set(CLIENT_STATUSES)
    assert all(source in CLIENT_STATUSES for sources in TRANSITIONS.values() for source in sources)
    assert all(status not in sources for status, sources in TRANSITIONS.items())


@pytest.mark.parametrize(("start", "to"), [(s, t) for t in CLIENT_STATUSES for s in CLIENT_STATUSES if s != t])
def test_a_move_happens_exactly_when_the_table_allows_it(application, start, to):
    application.client_status = start
    db.session.commit()
    db.session.query(SearchOutbox).delete()
    moved = application_status.move(application, to, now=NOW)
    assert moved == (start in TRANSITIONS[to])
    assert application.client_status == (to if moved else start)
    # A move reaches the search index through the outbox, in the same transaction.
    assert queued_candidates() == ([application.candidate_id] if moved else [])


def test_allowed_from_narrows_the_table_and_a_lost_race_changes_nothing(application):
    assert application_status.move(application, "interview_requested", now=NOW, allowed_from=("awaiting_review",))
    # A second contact acting on the stale status loses: no second move, no error.
    assert not application_status.move(application, "interview_requested", now=NOW, allowed_from=("awaiting_review",))
    assert not application_status.move(application, "hire_requested", now=NOW, allowed_from=("awaiting_review",))
    assert application.client_status == "interview_requested"


def test_closing_sets_outcome_and_what_the_client_sees(application):
    assert application_status.close(application, "withdrawn", now=NOW)
    assert (application.client_status, application.outcome) == ("closed", "withdrawn")
    assert application.closed_at.replace(tzinfo=UTC) == NOW
    assert not application_status.close(application, "hired", now=NOW)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (None, "awaiting_review"),
        ("hired", "hired"),
        ("rejected_by_client", "rejected_by_client"),
        ("rejected_by_agency", "closed"),
        ("withdrawn", "closed"),
    ],
)
def test_history_sets_the_status_its_outcome_implies(application, outcome, status):
    application.outcome = outcome
    application_status.from_history(application)
    assert application.client_status == status
