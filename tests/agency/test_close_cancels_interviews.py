"""Issue 13, "nothing dropped" on the agency's side: closing an application (the agency rejects
the candidate, or they withdraw) cancels its scheduled interviews through the one cancel path, with
a cancellation built per recipient (their zone, only the addresses they may see), and leaves no
request or interview task open. A hire keeps its interviews. A client's reject withdraws the
"Re-arrange interview" task of a reopened request too, and its Undo gives it back."""

from datetime import date, time, timedelta

import icalendar
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, Interview, InterviewRequest, Reason, Task
from portal.services import client_actions
from portal.services.client_actions import SlotInput
from portal.services.interview_answers import request_further_round
from portal.services.pipeline import close_application
from portal.worker import deliver_mail
from tests.agency.conftest import FRIDAY_BEFORE_US_DST
from tests.agency.test_nothing_dropped import STARTS_UTC, _confirm, _request, booked_then_cancelled
from tests.conftest import csrf_token, login_as

NOW = FRIDAY_BEFORE_US_DST


def _reason(desk, kind):
    return db.session.scalars(
        select(Reason).where(Reason.agency_id == desk.job.agency_id, Reason.kind == kind).order_by(Reason.id)
    ).first()


def _invitations(smtp):
    """Deliver the outbox: each recipient's calendar and event, by address (alerts left out)."""
    sent = deliver_mail()
    found = {}
    for item in smtp.inbox.wait_for(sent) if sent else []:
        parts = [p for p in item["message"].walk() if p.get_content_type() == "text/calendar"]
        if parts:
            calendar = icalendar.Calendar.from_ical(parts[0].get_content())
            (event,) = calendar.walk("VEVENT")
            found[item["to"][0]] = (calendar, event, item["message"].as_string())
    smtp.inbox.clear()
    return found


def _attendees(event):
    value = event.get("ATTENDEE") or []
    return {str(a).removeprefix("mailto:") for a in (value if isinstance(value, list) else [value])}


def _open_interview_tasks(application_id):
    return list(
        db.session.scalars(
            select(Task).where(
                Task.application_id == application_id, Task.type == "organise_interview", Task.status == "open"
            )
        )
    )


@pytest.mark.parametrize(("outcome", "kind"), [("rejected_by_agency", "rejection"), ("withdrawn", "loss")])
def test_closing_cancels_scheduled_interviews_for_everyone_and_leaves_nothing_open(desk, smtp, outcome, kind):
    request = _request(desk)
    interview = _confirm(desk, request)
    further = request_further_round(
        desk.contact,
        desk.application,
        interview_format="phone",
        timezone_name="America/New_York",
        slots=[SlotInput(date(2026, 3, 12), time(9, 0), 45)],
        now=NOW,
    )
    db.session.commit()
    assert len(_invitations(smtp)) == 3  # the confirmation
    assert len(_open_interview_tasks(desk.application.id)) == 1  # the further round's

    close_application(desk.application, outcome, desk.recruiter, reason_id=_reason(desk, kind).id, now=NOW)
    db.session.commit()
    db.session.expire_all()
    interview = db.session.get(Interview, interview.id)
    assert (interview.status, interview.ics_sequence) == ("cancelled", 1)
    assert db.session.get(InterviewRequest, request.id).status == "cancelled"
    assert db.session.get(InterviewRequest, further.id).status == "cancelled"
    assert _open_interview_tasks(desk.application.id) == []
    assert db.session.get(Application, desk.application.id).client_status == "closed"

    received = _invitations(smtp)
    zones = {desk.contact.email: "America/New_York", desk.candidate.primary_email: "Asia/Kolkata"}
    zones[desk.recruiter.email] = "Europe/London"
    assert set(received) == set(zones)
    for address, (calendar, event, _) in received.items():
        assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert (str(event["UID"]), int(event["SEQUENCE"])) == (interview.ics_uid, 1)
        assert event.decoded("DTSTART") == STARTS_UTC
        assert str(event.decoded("DTSTART").tzinfo) == zones[address], address
    # The client never sees the candidate's address (hidden until hire), the candidate never the client's.
    assert desk.candidate.primary_email not in received[desk.contact.email][2]
    assert desk.candidate.primary_email not in _attendees(received[desk.contact.email][1])
    assert desk.contact.email not in received[desk.candidate.primary_email][2]
    assert desk.contact.email not in _attendees(received[desk.candidate.primary_email][1])
    # Nobody is asked to re-arrange an interview with a candidate who is out of the process.
    assert db.session.scalar(select(Task).where(Task.title.like("Re-arrange%"))) is None


def test_a_hire_keeps_the_scheduled_interview(desk, smtp):
    interview = _confirm(desk, _request(desk))
    db.session.commit()
    _invitations(smtp)
    close_application(desk.application, "hired", desk.recruiter, now=NOW)
    db.session.commit()
    assert db.session.get(Interview, interview.id).status == "scheduled"
    assert _invitations(smtp) == {}


def test_a_client_reject_withdraws_the_rearrange_task_and_undo_gives_it_back(desk, smtp):
    request, _ = booked_then_cancelled(desk)
    (rearrange,) = _open_interview_tasks(desk.application.id)
    assert rearrange.title.startswith("Re-arrange interview") and rearrange.interview_request_id == request.id

    rejected_at = NOW + timedelta(hours=1)
    client_actions.reject(desk.contact, desk.application, now=rejected_at)
    db.session.commit()
    assert db.session.get(InterviewRequest, request.id).status == "cancelled"
    assert _open_interview_tasks(desk.application.id) == []

    client_actions.undo_reject(desk.contact, desk.application, now=rejected_at + timedelta(seconds=5))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(InterviewRequest, request.id).status == "open"
    assert [t.id for t in _open_interview_tasks(desk.application.id)] == [rearrange.id]
    # The restored task belongs to the request again: closing the request withdraws it once more.
    client_actions.cancel_open_requests(desk.application, now=rejected_at)
    assert _open_interview_tasks(desk.application.id) == []


def test_the_outcome_form_warns_and_closing_over_http_cancels(app, desk, smtp):
    interview = _confirm(desk, _request(desk))
    db.session.commit()
    _invitations(smtp)
    client = app.test_client()
    login_as(client, desk.recruiter)
    url = f"/agency/applications/{desk.application.id}/outcome"
    form = client.get(url).get_data(as_text=True)
    assert "closing cancels the interview booked on Mon 9 Mar 2026, 14:00 (Europe/London)" in " ".join(form.split())
    done = client.post(
        url,
        data={"csrf_token": csrf_token(client), "outcome": "withdrawn", "reason_id": _reason(desk, "loss").id},
    )
    assert done.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "cancelled"
    received = _invitations(smtp)
    assert {str(calendar["METHOD"]) for calendar, _, _ in received.values()} == {"CANCEL"} and len(received) == 3
