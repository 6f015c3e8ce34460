"""Decision deadlines over HTTP (issue 15): the admin's settings and holidays, a job's override,
"Please decide by" on the client's card and candidate page in the contact's zone, the contact's
reminder choice, and a reminder's link straight to the candidate."""

from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, AgencyHoliday, Application, ClientContact, Job, utcnow
from portal.services import client_actions, sharing
from portal.services.auth import landing_link
from portal.services.interviews import format_in_zone
from tests.conftest import csrf_token, login_as
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_job,
    make_user,
)

HTMX = {"HX-Request": "true"}


@dataclass
class Desk:
    slug: str
    admin_id: int
    owner_id: int
    contact_id: int
    job_id: int
    application_id: int
    other_application_id: int


@pytest.fixture
def desk(app) -> Desk:
    with app.app_context():
        agency = make_agency("calendar", name="Calendar Talent")
        admin = make_user(agency, "admin", timezone="Europe/London")
        owner = make_user(agency, name="Olu Owner", timezone="Europe/London")
        company = make_company(agency, name="Hudson Widgets")
        contact = make_contact(company, name="Nia Newyork", timezone="America/New_York", timezone_source="contact")
        job = make_job(company, owner, title="Widget Engineer")
        other_job = make_job(company, owner, title="Gizmo Lead")
        application = make_application(job, make_candidate(agency, first_name="Kavya", last_name="Rao"), shared=False)
        other = make_application(other_job, shared=False)
        for each in (application, other):
            sharing.share_candidate(each, owner, consent_override_reason="Agreed on the phone", now=utcnow())
        db.session.commit()
        return Desk(agency.slug, admin.id, owner.id, contact.id, job.id, application.id, other.id)


def signed_in(app, model, principal_id):
    client = app.test_client()
    with app.app_context():
        login_as(client, db.session.get(model, principal_id))
    return client


def test_admin_sets_the_days_and_refuses_out_of_range_in_place(app, desk):
    from portal.models import User

    client = signed_in(app, User, desk.admin_id)
    page = client.get("/admin/deadlines")
    assert page.status_code == 200 and "Working days a client has to decide" in page.get_data(as_text=True)
    fragment = client.get("/admin/deadlines", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="deadlines">')
    token = csrf_token(client)
    refused = client.post("/admin/deadlines", data={"csrf_token": token, "due_days": "0", "grace_days": "2"})
    assert refused.status_code == 422
    assert "Give the days to decide between 1 and 60 working days." in refused.get_data(as_text=True)
    saved = client.post(
        "/admin/deadlines", data={"csrf_token": token, "due_days": "7", "grace_days": "0"}, headers=HTMX
    )
    assert saved.status_code == 200 and "Saved." in saved.get_data(as_text=True)
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.slug == desk.slug))
        assert (agency.feedback_due_working_days, agency.feedback_chase_grace_days) == (7, 0)


def test_admin_adds_and_removes_holidays(app, desk):
    from portal.models import User

    client = signed_in(app, User, desk.admin_id)
    token = csrf_token(client)
    day = (utcnow() + timedelta(days=40)).date()
    added = client.post("/admin/holidays", data={"csrf_token": token, "day": day.isoformat(), "name": "Founders"})
    assert added.status_code == 303
    again = client.post("/admin/holidays", data={"csrf_token": token, "day": day.isoformat()}, headers=HTMX)
    assert again.status_code == 422 and f"{day.isoformat()} is already a holiday." in again.get_data(as_text=True)
    missing = client.post("/admin/holidays", data={"csrf_token": token, "day": ""}, headers=HTMX)
    assert missing.status_code == 422 and "Give the holiday&#39;s date." in missing.get_data(as_text=True)
    with app.app_context():
        (holiday,) = db.session.scalars(select(AgencyHoliday))
        assert (holiday.day, holiday.name) == (day, "Founders")
        holiday_id = holiday.id
    assert "Founders" in client.get("/admin/deadlines").get_data(as_text=True)
    removed = client.post(f"/admin/holidays/{holiday_id}/delete", data={"csrf_token": token}, headers=HTMX)
    assert removed.status_code == 200 and "No holidays listed." in removed.get_data(as_text=True)


def test_a_holiday_moves_the_deadline_of_the_next_share(app, desk):
    with app.app_context():
        application = db.session.get(Application, desk.application_id)
        owner = application.job.owner
        now = utcnow()
        sharing.unshare_candidate(application, owner, now=now)
        before = sharing.share_candidate(application, owner, consent_override_reason="Agreed", now=now).feedback_due_at
        due_day = before.astimezone(UTC).date()
        db.session.add(AgencyHoliday(agency_id=application.agency_id, day=due_day))
        sharing.unshare_candidate(application, owner, now=now)
        after = sharing.share_candidate(application, owner, consent_override_reason="Agreed", now=now).feedback_due_at
        assert after > before and after.astimezone(UTC).date() > due_day
        db.session.rollback()


def test_a_job_overrides_the_agency_days_on_its_form(app, desk):
    from portal.models import User

    client = signed_in(app, User, desk.owner_id)
    form = client.get(f"/agency/jobs/{desk.job_id}/edit").get_data(as_text=True)
    assert "Working days the client has to decide (optional)" in form
    with app.app_context():
        job = db.session.get(Job, desk.job_id)
        values = {
            "csrf_token": csrf_token(client),
            "title": job.title,
            "company_id": job.company_id,
            "owner_id": job.owner_id,
            "team_ids": [job.owner_id],
            "status": "open",
        }
    refused = client.post(f"/agency/jobs/{desk.job_id}/edit", data={**values, "feedback_due_working_days": "61"})
    assert refused.status_code == 422
    assert "Give between 1 and 60 working days, or leave it empty." in refused.get_data(as_text=True)
    saved = client.post(f"/agency/jobs/{desk.job_id}/edit", data={**values, "feedback_due_working_days": "10"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Job, desk.job_id).feedback_due_working_days == 10
    cleared = client.post(f"/agency/jobs/{desk.job_id}/edit", data={**values, "feedback_due_working_days": ""})
    assert cleared.status_code == 303
    with app.app_context():
        assert db.session.get(Job, desk.job_id).feedback_due_working_days is None


def test_the_client_sees_please_decide_by_in_their_zone_until_they_decide(app, desk):
    client = signed_in(app, ClientContact, desk.contact_id)
    with app.app_context():
        application = db.session.get(Application, desk.application_id)
        expected = f"Please decide by {format_in_zone(application.shared_profile.feedback_due_at, 'America/New_York')}"
    assert "(America/New_York)" in expected
    job_page = client.get(f"/{desk.slug}/portal/jobs/{desk.job_id}").get_data(as_text=True)
    assert expected in job_page
    candidate_page = client.get(f"/{desk.slug}/portal/candidates/{desk.application_id}").get_data(as_text=True)
    assert expected in candidate_page
    rejected = client.post(
        f"/{desk.slug}/portal/candidates/{desk.application_id}/reject",
        data={"csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert rejected.status_code == 200 and "Please decide by" not in rejected.get_data(as_text=True)
    assert "Please decide by" not in client.get(f"/{desk.slug}/portal/candidates/{desk.application_id}").get_data(
        as_text=True
    )


def test_no_please_decide_by_after_an_interview_request_or_for_shares_without_one(app, desk):
    with app.app_context():
        application = db.session.get(Application, desk.application_id)
        client_actions.request_hire(db.session.get(ClientContact, desk.contact_id), application, now=utcnow())
        other = db.session.get(Application, desk.other_application_id)
        other.shared_profile.feedback_due_at = None  # shared before deadlines existed
        db.session.commit()
    client = signed_in(app, ClientContact, desk.contact_id)
    for application_id in (desk.application_id, desk.other_application_id):
        page = client.get(f"/{desk.slug}/portal/candidates/{application_id}").get_data(as_text=True)
        assert "Please decide by" not in page


def test_the_contact_snoozes_and_stops_reminders_on_their_settings_page(app, desk):
    client = signed_in(app, ClientContact, desk.contact_id)
    page = client.get(f"/{desk.slug}/portal/settings").get_data(as_text=True)
    assert "Reminder e-mails" in page and "We e-mail you, at most once a day" in page
    token = csrf_token(client)
    url = f"/{desk.slug}/portal/settings/reminders"
    no_date = client.post(url, data={"csrf_token": token, "reminders": "snoozed", "snoozed_until": ""})
    assert no_date.status_code == 422 and "Choose the date reminders start again." in no_date.get_data(as_text=True)
    past = client.post(url, data={"csrf_token": token, "reminders": "snoozed", "snoozed_until": "2001-01-01"})
    assert past.status_code == 422 and "Choose a date after today" in past.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ClientContact, desk.contact_id).reminders == "on"  # nothing half-saved
    until = (utcnow() + timedelta(days=10)).date()
    snoozed = client.post(url, data={"csrf_token": token, "reminders": "snoozed", "snoozed_until": until.isoformat()})
    assert snoozed.status_code == 303
    with app.app_context():
        contact = db.session.get(ClientContact, desk.contact_id)
        assert (contact.reminders, contact.reminders_snoozed_until) == ("snoozed", until)
    assert "Reminders are snoozed" in client.get(f"/{desk.slug}/portal/settings").get_data(as_text=True)
    off = client.post(url, data={"csrf_token": token, "reminders": "off", "snoozed_until": until.isoformat()})
    assert off.status_code == 303
    with app.app_context():
        contact = db.session.get(ClientContact, desk.contact_id)
        assert (contact.reminders, contact.reminders_snoozed_until) == ("off", None)


def test_a_reminder_link_leads_straight_to_the_candidate(app, desk):
    with app.app_context():
        contact = db.session.get(ClientContact, desk.contact_id)
        link = landing_link(contact, db.session.get(Job, desk.job_id))
        db.session.commit()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    client = app.test_client()
    page = client.get(f"{path}?to={desk.application_id}")
    assert page.status_code == 200  # a scanner's GET changes nothing
    assert f"?to={desk.application_id}" in page.get_data(as_text=True)
    signed = client.post(f"{path}?to={desk.application_id}", data={"csrf_token": csrf_token(client)})
    assert signed.status_code == 303
    assert signed.headers["Location"].endswith(f"/{desk.slug}/portal/candidates/{desk.application_id}")
    # Signed in already: the link goes straight there.
    again = client.get(f"{path}?to={desk.application_id}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/candidates/{desk.application_id}")
    # A candidate of another job is not where this job's link leads: the job page instead.
    other = client.get(f"{path}?to={desk.other_application_id}")
    assert other.headers["Location"].endswith(f"/{desk.slug}/portal/jobs/{desk.job_id}")


def test_an_unsubscribe_link_that_is_not_ours_changes_nothing(app, desk):
    client = app.test_client()
    forged = client.get(f"/{desk.slug}/reminders/unsubscribe/forged-token")
    assert forged.status_code == 404 and "This link is not valid" in forged.get_data(as_text=True)
    posted = client.post(f"/{desk.slug}/reminders/unsubscribe/forged-token", data={"csrf_token": csrf_token(client)})
    assert posted.status_code == 404
    with app.app_context():
        assert db.session.get(ClientContact, desk.contact_id).reminders == "on"


def test_flask_reminders_run_prints_what_the_steps_did(app, desk):
    result = app.test_cli_runner().invoke(args=["reminders", "run"])
    assert result.exit_code == 0, result.output
    assert "client reminders: sent: 0, snoozed: 0, unsubscribed: 0, already sent today: 0" in result.output
    assert "chase client feedback: tasks: 0, waiting for grace: 0" in result.output
