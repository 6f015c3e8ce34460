"""The staff lookups of portal/scoping.py that the workspace uses: rows on a confidential job load
only for its team and the admins; other agencies and client contacts always get a 404."""

from datetime import UTC, datetime

import pytest
from werkzeug.exceptions import NotFound

from portal.extensions import db
from portal.models import Activity, Alert
from portal.scoping import (
    activities_query,
    colleagues,
    get_application_or_404,
    get_interview_or_404,
    get_interview_request_or_404,
    get_own_alert_or_404,
    get_task_or_404,
)
from portal.services.tasks import generate_task
from tests.factories import make_application, make_interview, make_interview_request, make_tenant, make_user

START = datetime(2031, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def secret(ctx):
    """Two agencies; in the first, one application on the confidential job with a task, an
    interview request and an interview."""
    a, b = make_tenant("alpha-desk"), make_tenant("bravo-desk")
    application = make_application(a.confidential_job, shared=False)
    request = make_interview_request(application, None, [(START, START.replace(hour=10))])
    task = generate_task(application, "send_feedback", "send_feedback:secret")
    interview = make_interview(application, a.recruiter, START)
    db.session.commit()
    return a, b, {"application": application, "task": task, "request": request, "interview": interview}


LOOKUPS = {
    "application": get_application_or_404,
    "task": get_task_or_404,
    "request": get_interview_request_or_404,
    "interview": get_interview_or_404,
}


@pytest.mark.parametrize("kind", LOOKUPS)
@pytest.mark.parametrize(
    "who, visible",
    [("recruiter", True), ("admin", True), ("outsider", False), ("contact", False), ("other_agency", False)],
)
def test_rows_on_a_confidential_job_load_for_its_team_and_admins_only(secret, kind, who, visible):
    a, b, rows = secret
    principal = b.admin if who == "other_agency" else getattr(a, who)
    row = rows[kind]
    if visible:
        assert LOOKUPS[kind](row.id, principal) is row
    else:
        with pytest.raises(NotFound):
            LOOKUPS[kind](row.id, principal)


def test_timeline_entries_of_hidden_jobs_are_left_out(secret):
    a, _, _ = secret
    for job in (a.job, a.confidential_job):
        db.session.add(Activity(agency_id=a.agency.id, verb="test", summary=f"About {job.title}", job_id=job.id))
    db.session.commit()
    seen = lambda who: set(db.session.scalars(activities_query(who).with_only_columns(Activity.job_id)))  # noqa: E731
    assert seen(a.recruiter) == {a.job.id, a.confidential_job.id}
    assert seen(a.outsider) == {a.job.id}


def test_alerts_load_for_their_own_user_only(secret):
    a, _, _ = secret
    alert = Alert(agency_id=a.agency.id, user_id=a.recruiter.id, kind="test", message="Yours")
    db.session.add(alert)
    db.session.commit()
    assert get_own_alert_or_404(alert.id, a.recruiter) is alert
    with pytest.raises(NotFound):
        get_own_alert_or_404(alert.id, a.admin)


def test_colleagues_are_the_active_users_of_the_agency_by_name(secret):
    a, b, _ = secret
    make_user(a.agency, name="Aaron Gone", active=False)
    make_user(a.agency, name="Aaron Here")
    db.session.commit()
    names = [u.name for u in colleagues(a.recruiter)]
    assert names == sorted(names) and "Aaron Here" in names and "Aaron Gone" not in names
    assert not {u.id for u in colleagues(a.recruiter)} & {b.admin.id, b.recruiter.id, b.outsider.id}
