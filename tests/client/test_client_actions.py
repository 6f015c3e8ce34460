"""Client actions as services (C6–C10): effects on status, task, alert, mail, timeline; refusals."""

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Activity,
    Alert,
    Application,
    InterviewRequest,
    Job,
    MailOutbox,
    Rating,
    Reason,
    SharedProfile,
    Task,
    utcnow,
)
from portal.services import ServiceError
from portal.services import client_actions as actions
from portal.services.client_actions import SlotInput
from portal.unit_of_work import unit_of_work
from tests.conftest import TEST_DATABASE
from tests.factories import make_contact, make_tenant

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def tenant(ctx):
    return make_tenant("clientco")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def slot(day: str, start: str, minutes: int = 60) -> SlotInput:
    return SlotInput(date.fromisoformat(day), time.fromisoformat(start), minutes)


def interview(tenant, slots=None, zone="America/New_York", now=NOW, application=None):
    return actions.request_interview(
        tenant.contact,
        application or tenant.application,
        interview_format="video",
        timezone_name=zone,
        slots=slots or [slot("2026-11-25", "09:30"), slot("2026-11-26", "14:00", 45)],
        notes="Bring a case study",
        now=now,
    )


# Rating (C6)


def test_rating_is_set_changed_and_cleared_with_one_row_per_contact(tenant):
    colleague = make_contact(tenant.company)
    assert actions.rate(tenant.contact, tenant.application, 4) == actions.RatingSummary(4, 4.0, 1)
    assert actions.rate(colleague, tenant.application, 1) == actions.RatingSummary(1, 2.5, 2)
    assert actions.rate(tenant.contact, tenant.application, 5).average == 3.0
    assert count(Rating, Rating.application_id == tenant.application.id) == 2
    assert actions.rate(tenant.contact, tenant.application, None) == actions.RatingSummary(None, 1.0, 1)
    assert count(Activity, Activity.verb == "client.rated") == 4


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_rating_outside_one_to_five_is_refused(tenant, stars):
    with pytest.raises(ServiceError, match="1 to 5 stars") as refused:
        actions.rate(tenant.contact, tenant.application, stars)
    assert refused.value.field == "stars"


@pytest.mark.parametrize(
    "body, message",
    [("", "Write a comment first."), ("   ", "Write a comment first."), ("x" * 4001, "under 4,000 characters")],
)
def test_comment_refusals(tenant, body, message):
    with pytest.raises(ServiceError, match=message):
        actions.add_comment(tenant.contact, tenant.application, body)


def test_comment_is_on_the_thread_and_the_timeline(tenant):
    actions.add_comment(tenant.contact, tenant.application, "  Strong on SQL.  ")
    (comment,) = actions.comments_for(tenant.application)
    assert (comment.body, comment.author_name) == ("Strong on SQL.", tenant.contact.name)
    assert count(Activity, Activity.verb == "client.commented", Activity.client_visible.is_(True)) == 1


# Interview request (C7)


def test_interview_request_stores_utc_with_the_zone_and_sets_everything_in_motion(tenant):
    request_row = interview(tenant)
    db.session.commit()
    starts = [(s.starts_at.astimezone(UTC), s.ends_at.astimezone(UTC), s.timezone) for s in request_row.proposed_slots]
    # 09:30 in New York on 25 Nov 2026 is EST (UTC-5).
    assert starts == [
        (datetime(2026, 11, 25, 14, 30, tzinfo=UTC), datetime(2026, 11, 25, 15, 30, tzinfo=UTC), "America/New_York"),
        (datetime(2026, 11, 26, 19, 0, tzinfo=UTC), datetime(2026, 11, 26, 19, 45, tzinfo=UTC), "America/New_York"),
    ]
    assert tenant.application.client_status == "interview_requested"
    task = db.session.scalar(select(Task).where(Task.application_id == tenant.application.id))
    assert (task.type, task.assignee_id, task.interview_request_id) == (
        "organise_interview",
        tenant.job.owner_id,
        request_row.id,
    )
    assert task.due_at.astimezone(UTC) == NOW + timedelta(days=1)
    assert [item.label for item in task.checklist][-1] == "Confirm the interview"
    alert = db.session.scalar(select(Alert).where(Alert.user_id == tenant.job.owner_id))
    assert alert.kind == "interview_requested" and tenant.application.candidate.name in alert.message
    mail = db.session.get(MailOutbox, alert.mail_id)
    assert mail.recipients == [tenant.recruiter.email] and mail.status == "pending"
    assert count(Activity, Activity.verb == "client.interview_requested") == 1


def test_repeating_an_interview_request_creates_nothing_new(tenant):
    first = interview(tenant)
    again = interview(tenant, slots=[slot("2026-11-27", "10:00")])
    assert again.id == first.id
    assert count(InterviewRequest) == 1 and count(Task) == 1 and count(Alert) == 1


@pytest.mark.parametrize(
    "slots, zone, field, message",
    [
        ([slot("2026-11-23", "06:59")], "America/New_York", "slots-0-start", "in the past"),
        ([slot("2026-11-25", "09:00"), slot("2026-11-25", "09:30")], "UTC", "slots-1-start", "overlaps time 1"),
        ([slot("2027-03-14", "02:30")], "America/New_York", "slots-0-start", "doesn't exist"),
        ([SlotInput(None, time(9), 60)], "UTC", "slots-0-day", "Enter a date"),
        ([SlotInput(date(2026, 12, 1), None, 60)], "UTC", "slots-0-start", "Enter a start time"),
        ([SlotInput(date(2026, 12, 1), time(9), 7)], "UTC", "slots-0-minutes", "duration"),
        ([SlotInput(None, None, None)], "UTC", "slots-0-day", "at least one time"),
        ([slot(f"2026-12-{d:02d}", "09:00") for d in range(1, 12)], "UTC", "slots", "at most 10"),
        ([slot("2026-12-01", "09:00")], "Mars/Olympus_Mons", "timezone", "timezone"),
    ],
)
def test_interview_request_refusals_name_the_field_and_change_nothing(tenant, slots, zone, field, message):
    with pytest.raises(ServiceError, match=message) as refused:
        interview(tenant, slots=slots, zone=zone)
    assert refused.value.field == field
    db.session.rollback()
    assert tenant.application.client_status == "awaiting_review"
    assert count(InterviewRequest) == 0 and count(Task) == 0


def test_ten_slots_is_the_limit_not_an_error(tenant):
    request_row = interview(tenant, slots=[slot(f"2026-12-{d:02d}", "09:00") for d in range(1, 11)])
    assert len(request_row.proposed_slots) == 10


def test_an_interview_cannot_be_requested_for_a_rejected_candidate(tenant):
    actions.reject(tenant.contact, tenant.application, now=NOW)
    with pytest.raises(ServiceError, match="can't be requested now"):
        interview(tenant)


# Hire (C8)


def test_hire_request_creates_the_offer_task_alert_and_mail_once(tenant):
    actions.request_hire(tenant.contact, tenant.application, start_date=date(2027, 1, 4), note="ASAP", now=NOW)
    actions.request_hire(tenant.contact, tenant.application, now=NOW)
    db.session.commit()
    assert tenant.application.client_status == "hire_requested"
    (task,) = db.session.scalars(select(Task)).all()
    assert task.type == "process_offer" and task.due_at.astimezone(UTC) == NOW + timedelta(days=2)
    (alert,) = db.session.scalars(select(Alert)).all()
    assert "2027-01-04" in alert.message
    assert count(MailOutbox, MailOutbox.kind == "alert.hire_requested") == 1
    entry = db.session.scalar(select(Activity).where(Activity.verb == "client.hire_requested"))
    assert entry.detail == {"start_date": "2027-01-04", "note": "ASAP"}


def test_hire_start_date_in_the_past_is_refused(tenant):
    with pytest.raises(ServiceError, match="past") as refused:
        actions.request_hire(tenant.contact, tenant.application, start_date=date(2026, 11, 1), now=NOW)
    assert refused.value.field == "start_date"


# Reject and undo (C9)


def test_one_click_reject_and_what_it_creates(tenant):
    actions.reject(tenant.contact, tenant.application, now=NOW)
    actions.reject(tenant.contact, tenant.application, now=NOW)  # a double click
    db.session.commit()
    assert (tenant.application.client_status, tenant.application.outcome) == (
        "rejected_by_client",
        "rejected_by_client",
    )
    (task,) = db.session.scalars(select(Task)).all()
    assert task.type == "send_feedback" and task.status == "open"
    (alert,) = db.session.scalars(select(Alert)).all()
    mail = db.session.get(MailOutbox, alert.mail_id)
    # The owner's email waits out the undo window, so an undone reject never reaches them.
    assert mail.next_attempt_at.astimezone(UTC) == NOW + actions.UNDO_WINDOW + actions.UNDO_GRACE
    assert count(Activity, Activity.verb == "client.rejected") == 1


def test_undo_restores_the_status_and_withdraws_task_alert_and_mail(tenant):
    actions.reject(tenant.contact, tenant.application, now=utcnow())
    db.session.commit()
    actions.undo_reject(tenant.contact, tenant.application)
    db.session.commit()
    assert (tenant.application.client_status, tenant.application.outcome) == ("awaiting_review", None)
    assert db.session.scalar(select(Task.status)) == "retracted"
    assert count(Alert) == 0 and count(MailOutbox) == 0
    # Rejecting again later is a fresh decision with a fresh task.
    actions.reject(tenant.contact, tenant.application, now=utcnow())
    db.session.commit()
    assert count(Task, Task.status == "open", Task.type == "send_feedback") == 1 and count(Alert) == 1


def test_undo_after_the_window_is_refused(tenant):
    actions.reject(tenant.contact, tenant.application, now=NOW)
    db.session.commit()
    tenant.application.closed_at = NOW
    with pytest.raises(ServiceError, match="too late"):
        actions.undo_reject(tenant.contact, tenant.application, now=NOW + timedelta(seconds=16))


def test_only_the_rejecting_contact_may_undo(tenant):
    colleague = make_contact(tenant.company)
    actions.reject(tenant.contact, tenant.application, now=utcnow())
    with pytest.raises(ServiceError, match="Only the person who rejected"):
        actions.undo_reject(colleague, tenant.application)


def test_reject_cancels_an_open_interview_request_and_undo_reopens_it(tenant):
    request_row = interview(tenant, now=NOW)
    actions.reject(tenant.contact, tenant.application, now=NOW)
    assert request_row.status == "cancelled"
    assert db.session.scalar(select(Task.status).where(Task.type == "organise_interview")) == "retracted"
    actions.undo_reject(tenant.contact, tenant.application, now=NOW + timedelta(seconds=5))
    db.session.commit()
    assert request_row.status == "open" and tenant.application.client_status == "interview_requested"
    assert count(Task, Task.type == "organise_interview", Task.status == "open") == 1


def test_reject_reason_from_the_agency_list_and_comment(tenant):
    actions.reject(tenant.contact, tenant.application, now=NOW)
    reason = db.session.scalar(select(Reason).where(Reason.agency_id == tenant.agency.id, Reason.kind == "rejection"))
    actions.explain_reject(tenant.contact, tenant.application, reason_id=reason.id, comment="Too junior")
    assert (tenant.application.reason_id, tenant.application.outcome_comment) == (reason.id, "Too junior")


def test_reject_reason_of_another_agency_or_nothing_at_all_is_refused(tenant):
    other = make_tenant("otherco")
    foreign = db.session.scalar(select(Reason).where(Reason.agency_id == other.agency.id))
    actions.reject(tenant.contact, tenant.application, now=NOW)
    with pytest.raises(ServiceError, match="from the list"):
        actions.explain_reject(tenant.contact, tenant.application, reason_id=foreign.id)
    with pytest.raises(ServiceError, match="reason or write a comment"):
        actions.explain_reject(tenant.contact, tenant.application, reason_id=None, comment=" ")


# Unshared or closed meanwhile (C10)


def test_unshared_or_closed_meanwhile_is_refused_clearly(tenant):
    profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == tenant.application.id))
    profile.unshared_at = utcnow()
    with pytest.raises(ServiceError, match="no longer shared"):
        actions.ensure_actionable(tenant.application)
    profile.unshared_at = None
    db.session.get(Job, tenant.job.id).status = "closed"
    with pytest.raises(ServiceError, match="job is closed"):
        actions.ensure_actionable(tenant.application)


# Two contacts at once (C10)


@pytest.mark.parametrize("action", ["reject", "interview", "hire"])
def test_two_contacts_acting_at_once_create_one_of_everything(app, action):
    with app.app_context():
        tenant = make_tenant("raceco")
        colleague = make_contact(tenant.company)
        db.session.commit()
        ids = (tenant.application.id, tenant.contact.id, colleague.id)
    barrier = threading.Barrier(2)
    errors = []

    def act(contact_id):
        from portal.models import ClientContact

        with app.app_context():
            contact = db.session.get(ClientContact, contact_id)
            application = db.session.get(Application, ids[0])
            barrier.wait()
            try:
                with unit_of_work():
                    if action == "reject":
                        actions.reject(contact, application, now=NOW)
                    elif action == "hire":
                        actions.request_hire(contact, application, now=NOW)
                    else:
                        actions.request_interview(
                            contact,
                            application,
                            interview_format="phone",
                            timezone_name="UTC",
                            slots=[SlotInput(date(2026, 11, 30), time(10), 30)],
                            now=NOW,
                        )
            except ServiceError as exc:
                errors.append(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(cid,)) for cid in ids[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 1, (TEST_DATABASE, errors)
        assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
        assert db.session.scalar(select(func.count()).select_from(InterviewRequest)) == (
            1 if action == "interview" else 0
        )


def test_one_contact_rating_twice_at_once_keeps_one_rating_and_no_error(app):
    """A double tap or two tabs: two rate() calls race; one rating remains, neither fails."""
    with app.app_context():
        tenant = make_tenant("rateco")
        ids = (tenant.application.id, tenant.contact.id)
    for attempt in range(5):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def tap(stars, barrier=barrier, errors=errors):
            from portal.models import ClientContact

            with app.app_context():
                try:
                    application = db.session.get(Application, ids[0])
                    contact = db.session.get(ClientContact, ids[1])
                    barrier.wait(10)
                    with unit_of_work():
                        actions.rate(contact, application, stars, now=NOW)
                except BaseException as exc:  # handed to the main thread
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=tap, args=(stars,)) for stars in (3, 4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with app.app_context():
            assert errors == [], (TEST_DATABASE, attempt)
            assert db.session.scalar(select(func.count()).select_from(Rating)) == 1
            db.session.execute(Rating.__table__.delete())
            db.session.commit()
