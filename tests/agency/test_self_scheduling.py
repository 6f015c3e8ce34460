"""The candidate's self-scheduling link (A8, beyond): emailed, scanner-safe, expiring, and held
to the same conflict rules as a recruiter's confirmation."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Interview, InterviewRequest, Task
from portal.services import ServiceError
from portal.services.interviews import send_self_schedule_link
from portal.worker import deliver_mail
from tests.conftest import csrf_token
from tests.factories import make_application, make_interview, make_interview_request

UTC = UTC
KOLKATA = ZoneInfo("Asia/Kolkata")
FIRST, SECOND = datetime(2031, 3, 10, 14, 0, tzinfo=UTC), datetime(2031, 3, 11, 9, 0, tzinfo=UTC)
# The links are sent a week before the proposed times, whatever today is (the pages read the clock).
pytestmark = pytest.mark.time_machine(FIRST - timedelta(days=7))


@pytest.fixture
def request_row(desk):
    row = make_interview_request(
        desk.application,
        desk.contact,
        [(FIRST, FIRST + timedelta(hours=1)), (SECOND, SECOND + timedelta(hours=1))],
        timezone="America/New_York",
    )
    db.session.commit()
    return row


def _link_from_inbox(smtp):
    (received,) = smtp.inbox.wait_for(1)
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    return received, text, re.search(r"http://\S+/schedule/\S+", text).group(0)


def test_candidate_picks_a_time_in_their_zone_and_everyone_gets_invitations(client, desk, request_row, smtp):
    send_self_schedule_link(request_row, desk.recruiter, meeting_link="https://meet.example/self")
    db.session.commit()
    assert deliver_mail() == 1
    received, text, url = _link_from_inbox(smtp)
    assert received["to"] == [desk.candidate.primary_email]
    assert "Mon 10 Mar 2031, 19:30 (Asia/Kolkata)" in text
    path = url.split("//", 1)[1].split("/", 1)[1]

    for _ in range(2):  # a mail scanner's GETs change nothing
        page = client.get(f"/{path}")
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Monday 10 March 2031, 19:30–20:30 (Asia/Kolkata)" in html
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0

    refused = client.post(f"/{path}", data={"csrf_token": csrf_token(client)})
    assert refused.status_code == 422 and "Choose one of the times." in refused.get_data(as_text=True)
    chosen = {"csrf_token": csrf_token(client), "slot_id": request_row.proposed_slots[1].id}
    asked = client.post(f"/{path}", data=chosen)  # first the confirm step: nothing booked yet
    assert asked.status_code == 200 and "Book this time?" in asked.get_data(as_text=True)
    assert "Yes, book Tuesday 11 March, 14:30" in asked.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0
    booked = client.post(f"/{path}", data={**chosen, "confirmed": "1"})
    assert booked.status_code == 200
    assert "booked for Tue 11 Mar 2031, 14:30 (Asia/Kolkata)" in booked.get_data(as_text=True)
    db.session.expire_all()
    interview = db.session.scalar(select(Interview))
    assert interview.starts_at.replace(tzinfo=UTC) == SECOND and interview.meeting_link == "https://meet.example/self"
    assert db.session.scalar(select(Task.status).where(Task.interview_request_id == request_row.id)) == "done"
    smtp.inbox.clear()
    assert deliver_mail() == 3
    assert len(smtp.inbox.wait_for(3)) == 3
    again = client.get(f"/{path}")
    assert "already been arranged" in again.get_data(as_text=True)


def test_a_taken_time_is_refused_with_the_same_conflict_rules(client, desk, request_row, smtp):
    url = send_self_schedule_link(request_row, desk.recruiter, meeting_link="https://meet.example/self")
    make_interview(make_application(desk.job), desk.recruiter, FIRST)
    db.session.commit()
    path = url.split("//", 1)[1].split("/", 1)[1]
    response = client.post(
        f"/{path}",
        data={"csrf_token": csrf_token(client), "slot_id": request_row.proposed_slots[0].id, "confirmed": "1"},
    )
    assert response.status_code == 422 and "no longer free" in response.get_data(as_text=True)
    assert db.session.get(InterviewRequest, request_row.id).status == "open"


def test_expired_and_foreign_links(app, client, desk, request_row):
    url = send_self_schedule_link(request_row, desk.recruiter, meeting_link="https://meet.example/self")
    db.session.commit()
    path = url.split("//", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}x").status_code == 404
    assert client.get("/" + path.replace(desk.recruiter.agency.slug, "nobody", 1)).status_code == 404
    app.config["SELF_SCHEDULE_LINK_DAYS"] = -1
    try:
        expired = client.get(f"/{path}")
        assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
        posted = client.post(
            f"/{path}", data={"csrf_token": csrf_token(client), "slot_id": request_row.proposed_slots[0].id}
        )
        assert posted.status_code == 410
    finally:
        app.config.pop("SELF_SCHEDULE_LINK_DAYS")
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "A video interview needs a meeting link."),
    ],
)
def test_sending_the_link_needs_the_place(desk, request_row, kwargs, message):
    with pytest.raises(ServiceError) as refused:
        send_self_schedule_link(request_row, desk.recruiter, **kwargs)
    assert refused.value.message == message
