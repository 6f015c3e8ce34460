"""Issue 13, "nothing dropped" and per-recipient invitations: candidates' replies reach the job
owner; each client colleague reads the invitation in a zone of theirs; a client reject cancels the
candidate's scheduled interviews once Undo has closed (and an Undo sends nothing); a cancelled
interview reopens the request with a "Re-arrange interview" task and an alert; the client's notes
show on the recruiter's task."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from portal.extensions import db
from portal.models import Alert, Application, Interview, InterviewRequest, MailOutbox, Task
from portal.services import client_actions
from portal.services.candidate_messages import send_feedback
from portal.services.interviews import (
    cancel_interview,
    company_zone,
    confirm_interview,
    propose_times,
    send_self_schedule_link,
)
from portal.worker import cancel_interviews_of_rejected, deliver_mail
from tests.agency.conftest import FRIDAY_BEFORE_US_DST
from tests.conftest import login_as
from tests.factories import make_contact, make_interview, make_interview_request

NEW_YORK = ZoneInfo("America/New_York")
# Monday 9 March 2026, 10:00 in New York (EDT, the US clocks went forward the day before) is 14:00
# in London (still GMT), 15:00 in Berlin, 23:00 in Tokyo and 19:30 in Kolkata.
MONDAY_10_NEW_YORK = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
STARTS_UTC = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def _request(desk, contact=None, notes=None):
    start = MONDAY_10_NEW_YORK.astimezone(UTC)
    request = make_interview_request(
        desk.application, contact or desk.contact, [(start, start + timedelta(hours=1))], timezone="America/New_York"
    )
    request.notes = notes
    return request


def _confirm(desk, request):
    return confirm_interview(
        request,
        desk.recruiter,
        slot_id=request.proposed_slots[0].id,
        meeting_link="https://meet.example/abc",
        now=FRIDAY_BEFORE_US_DST,
    )


def _event(message):
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    return calendar, event, part.get_content()


def _by_recipient(messages):
    return {m["to"][0]: m["message"] for m in messages}


def test_every_mail_to_the_candidate_replies_to_the_job_owner(desk, smtp):
    """Self-scheduling link, invitation and feedback (sent by a colleague of the owner): a
    candidate's reply goes to the recruiter who owns the job; nobody else's mail is redirected."""
    request = _request(desk)
    send_self_schedule_link(request, desk.recruiter, meeting_link="https://meet.example/abc")
    _confirm(desk, request)
    send_feedback(
        desk.application, desk.admin, "Your application", "Thank you for your time with us.", now=FRIDAY_BEFORE_US_DST
    )
    db.session.commit()
    assert deliver_mail() == 5
    received = smtp.inbox.wait_for(5)
    to_candidate = [m["message"] for m in received if m["to"] == [desk.candidate.primary_email]]
    assert len(to_candidate) == 3
    assert {m["Reply-To"] for m in to_candidate} == {desk.recruiter.email}
    assert all(m["message"]["Reply-To"] is None for m in received if m["to"] != [desk.candidate.primary_email])


def test_colleagues_read_the_invitation_in_their_zone_or_the_askers(desk, smtp):
    """The asker left, so every active contact of the company is invited: a colleague who chose
    Tokyo reads Tokyo time; one who never chose a zone reads the asker's proposal zone, not UTC.
    Each .ics carries the zone (TZID) and each mail names it."""
    request = _request(desk)
    desk.contact.active = False
    tokyo = make_contact(desk.job.company, name="Toshi Tokyo", timezone="Asia/Tokyo")
    unset = make_contact(desk.job.company, name="Una Unset")  # the model's default: never chosen
    _confirm(desk, request)
    db.session.commit()
    assert deliver_mail() == 4
    received = _by_recipient(smtp.inbox.wait_for(4))
    assert desk.contact.email not in received
    for contact, zone_name, local in ((tokyo, "Asia/Tokyo", "23:00"), (unset, "America/New_York", "10:00")):
        _, event, raw = _event(received[contact.email])
        assert event.decoded("DTSTART") == STARTS_UTC
        assert str(event.decoded("DTSTART").tzinfo) == zone_name
        assert f"DTSTART;TZID={zone_name}:20260309T{local.replace(':', '')}00" in raw
        assert f"{local} ({zone_name})" in received[contact.email].get_body(("plain",)).get_content()
        attendees = event.get("ATTENDEE")
        addresses = {
            str(a).removeprefix("mailto:") for a in (attendees if isinstance(attendees, list) else [attendees])
        }
        assert desk.candidate.primary_email not in addresses  # hidden until hire (C5)


def test_without_a_request_a_colleague_without_a_zone_reads_the_companys_zone(desk, smtp):
    """An interview booked without a client request: a contact who never chose a zone reads it
    in the zone the company's people chose (here New York)."""
    unset = make_contact(desk.job.company, name="Una Unset")
    assert company_zone(desk.job.company_id) == "America/New_York"
    interview = make_interview(desk.application, desk.recruiter, STARTS_UTC)
    db.session.commit()
    cancel_interview(interview, desk.recruiter, now=FRIDAY_BEFORE_US_DST)
    db.session.commit()
    deliver_mail()
    received = smtp.inbox.wait_for(5)
    (to_unset,) = [m["message"] for m in received if m["to"] == [unset.email]]
    calendar, event, raw = _event(to_unset)
    assert str(calendar["METHOD"]) == "CANCEL" and event.decoded("DTSTART") == STARTS_UTC
    assert "DTSTART;TZID=America/New_York:20260309T100000" in raw
    assert "10:00 (America/New_York)" in to_unset.get_body(("plain",)).get_content()


def test_counter_proposal_reaches_the_asker_in_their_proposal_zone(desk, smtp):
    desk.contact.timezone = "UTC"  # never chosen: the proposal's zone decides
    request = _request(desk)
    propose_times(
        request,
        desk.recruiter,
        [datetime(2026, 3, 10, 14, 0, tzinfo=UTC)],
        timedelta(minutes=30),
        "Europe/London",
        now=FRIDAY_BEFORE_US_DST,
    )
    db.session.commit()
    deliver_mail()
    (received,) = smtp.inbox.wait_for(1)
    assert "Tue 10 Mar 2026, 10:00 (America/New_York)" in received["message"].get_body(("plain",)).get_content()


# A client reject cancels scheduled interviews when the Undo window closes ----------------------


def _booked_then_rejected(desk, smtp):
    request = _request(desk)
    interview = _confirm(desk, request)
    db.session.commit()
    assert deliver_mail() == 3
    smtp.inbox.wait_for(3)
    smtp.inbox.clear()
    rejected_at = FRIDAY_BEFORE_US_DST + timedelta(hours=1)
    client_actions.reject(desk.contact, desk.application, now=rejected_at)
    db.session.commit()
    return request, interview, rejected_at


def test_a_reject_cancels_the_scheduled_interview_for_everyone_once_undo_has_closed(desk, smtp):
    request, interview, rejected_at = _booked_then_rejected(desk, smtp)
    # Inside the window (and its grace for a slow phone) nothing is cancelled or sent.
    assert cancel_interviews_of_rejected(now=rejected_at + timedelta(seconds=14)) == 0
    assert deliver_mail(now=rejected_at + timedelta(seconds=14)) == 0
    assert db.session.get(Interview, interview.id).status == "scheduled"

    closed = rejected_at + timedelta(seconds=16)
    assert cancel_interviews_of_rejected(now=closed) == 1
    assert cancel_interviews_of_rejected(now=closed) == 0  # a second pass finds nothing left
    db.session.expire_all()
    interview = db.session.get(Interview, interview.id)
    assert (interview.status, interview.ics_sequence) == ("cancelled", 1)
    assert db.session.get(InterviewRequest, request.id).status == "cancelled"
    application = db.session.get(Application, desk.application.id)
    assert application.client_status == "rejected_by_client"
    # No "Re-arrange interview" for a candidate the client turned down.
    assert db.session.scalar(select(Task).where(Task.title.like("Re-arrange%"))) is None

    # The owner's reject alert (held for the window) and a cancellation to each of the three.
    assert deliver_mail() == 4
    received = smtp.inbox.wait_for(4)
    invitations = {m["to"][0]: m["message"] for m in received if m["message"]["Subject"].startswith("Interview")}
    assert set(invitations) == {desk.contact.email, desk.candidate.primary_email, desk.recruiter.email}
    for address, message in invitations.items():
        calendar, event, _ = _event(message)
        assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert (str(event["UID"]), int(event["SEQUENCE"])) == (interview.ics_uid, 1), address
        assert event.decoded("DTSTART") == STARTS_UTC


def test_an_undo_within_the_window_keeps_the_interview_and_sends_nothing(desk, smtp):
    _, interview, rejected_at = _booked_then_rejected(desk, smtp)
    client_actions.undo_reject(desk.contact, desk.application, now=rejected_at + timedelta(seconds=8))
    db.session.commit()
    later = rejected_at + timedelta(minutes=5)
    assert cancel_interviews_of_rejected(now=later) == 0
    assert deliver_mail(now=later) == 0
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "scheduled"
    assert db.session.get(Application, desk.application.id).client_status == "interview_scheduled"
    assert db.session.scalar(select(MailOutbox.id).where(MailOutbox.status != "sent")) is None


# A cancel reopens the request, with a task and an alert -----------------------------------


def booked_then_cancelled(desk):
    """An interview booked from the client's request, then cancelled by the recruiter."""
    request = _request(desk)
    interview = _confirm(desk, request)
    db.session.commit()
    cancel_interview(interview, desk.recruiter, now=FRIDAY_BEFORE_US_DST)
    db.session.commit()
    return request, interview


def test_cancelling_reopens_the_request_with_a_rearrange_task_and_an_alert(desk, smtp):
    request, _ = booked_then_cancelled(desk)
    db.session.expire_all()
    assert db.session.get(InterviewRequest, request.id).status == "open"
    assert db.session.get(Application, desk.application.id).client_status == "interview_requested"
    task = db.session.scalar(select(Task).where(Task.title.like("Re-arrange interview%")))
    assert task.title == "Re-arrange interview: Kavya Rao for Widget Engineer"
    assert (task.status, task.assignee_id, task.interview_request_id) == ("open", desk.recruiter.id, request.id)
    alert = db.session.scalar(select(Alert).where(Alert.kind == "interview_cancelled"))
    assert alert.user_id == desk.recruiter.id
    assert "Kavya Rao" in alert.message and "Mon 9 Mar 2026, 14:00 (Europe/London)" in alert.message

    # Booking again through the reopened request completes the task.
    again = confirm_interview(
        db.session.get(InterviewRequest, request.id),
        desk.recruiter,
        starts_at=datetime(2026, 3, 11, 14, 0, tzinfo=UTC),
        meeting_link="https://meet.example/abc",
        now=FRIDAY_BEFORE_US_DST,
    )
    db.session.commit()
    assert again.status == "scheduled" and db.session.get(Task, task.id).status == "done"


def test_the_clients_notes_show_on_the_recruiters_task(app, desk):
    request = _request(desk, notes="Please ask about the Rust migration.\nShe prefers mornings.")
    task = db.session.scalar(select(Task).where(Task.interview_request_id == request.id))
    db.session.commit()
    client = app.test_client()
    login_as(client, desk.recruiter)
    page = client.get(f"/agency/tasks/{task.id}").get_data(as_text=True)
    assert '<h2 id="task-client-notes-title">Client\'s notes</h2>' in page
    assert "Please ask about the Rust migration.\nShe prefers mornings." in page
