"""Counter-proposals in the portal (issue 13, item 4), over HTTP with real sessions: the client
accepts one of the agency's proposed times in one tap (the usual confirm path) or asks for others;
the candidate's link offers only times the client proposed or accepted, in the zone they choose,
asks to confirm, and can say none of them work; the client sees the booked interview and can ask
for a further round; cancelling asks first; suggestions after a clash show both zones.

The owner is in London, the contact in New York, the candidate in Kolkata; the dates fall after
the US clocks changed (9 March 2031) and before the European ones (30 March 2031)."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Alert, Interview, InterviewRequest, ProposedSlot, Task
from portal.services import interviews
from portal.worker import deliver_mail
from tests.conftest import csrf_token, login_as
from tests.factories import make_application, make_interview, make_interview_request

CLIENT_SLOT = datetime(2031, 3, 10, 14, 0, tzinfo=UTC)  # Mon 10:00 in New York, 14:00 in London
AGENCY_SLOT = datetime(2031, 3, 11, 15, 0, tzinfo=UTC)  # Tue 11:00 in New York, 15:00 in London
NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.time_machine(NOW)
HX = {"HX-Request": "true"}


@pytest.fixture
def request_row(desk):
    row = make_interview_request(
        desk.application, desk.contact, [(CLIENT_SLOT, CLIENT_SLOT + timedelta(hours=1))], timezone="America/New_York"
    )
    db.session.commit()
    return row


@pytest.fixture
def recruiter_client(app, desk):
    client = app.test_client()
    login_as(client, desk.recruiter)
    return client


@pytest.fixture
def contact_client(app, desk):
    client = app.test_client()
    login_as(client, desk.contact)
    return client


def _propose(recruiter_client, request_row, **place):
    """The recruiter proposes Tue 11 March 15:00 London time (60 minutes) over HTTP."""
    response = recruiter_client.post(
        f"/agency/interview-requests/{request_row.id}/propose",
        data={
            "csrf_token": csrf_token(recruiter_client),
            "first": "2031-03-11T15:00",
            "minutes": "60",
            "timezone": "Europe/London",
            **place,
        },
        headers=HX,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.scalar(select(ProposedSlot).where(ProposedSlot.proposed_by == "agency"))


def _confirm_client_time(recruiter_client, request_row):
    """The recruiter confirms the client's proposed time, with a meeting link, over HTTP."""
    return recruiter_client.post(
        f"/agency/interview-requests/{request_row.id}/confirm",
        data={
            "csrf_token": csrf_token(recruiter_client),
            "slot_id": request_row.proposed_slots[0].id,
            "meeting_link": "https://meet.example/one",
        },
        headers=HX,
    )


def _candidate_page(desk):
    return f"/{desk.recruiter.agency.slug}/portal/candidates/{desk.application.id}"


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_client_accepts_an_agency_time_in_one_tap_and_the_interview_is_confirmed(
    desk, request_row, recruiter_client, contact_client, smtp
):
    slot = _propose(recruiter_client, request_row, meeting_link="https://meet.example/agency")
    assert slot.meeting_link == "https://meet.example/agency"
    assert deliver_mail() == 1
    (proposal,) = smtp.inbox.wait_for(1)
    body = proposal["message"].get_body(preferencelist=("plain",)).get_content()
    assert "Tue 11 Mar 2031, 11:00 (America/New_York)" in body
    assert f"/portal/candidates/{desk.application.id}" in body  # straight to the Accept buttons
    smtp.inbox.clear()

    page = contact_client.get(_candidate_page(desk))
    assert page.status_code == 200
    assert "Accept Tue 11 Mar 2031, 11:00 (America/New_York)" in _text(page)
    assert "None of these work" in _text(page)

    accepted = contact_client.post(
        _candidate_page(desk) + "/interview/accept",
        data={"csrf_token": csrf_token(contact_client), "slot_id": slot.id},
    )
    assert accepted.status_code == 303
    db.session.expire_all()
    interview = db.session.scalar(select(Interview))
    assert interview.starts_at.astimezone(UTC) == AGENCY_SLOT
    assert interview.meeting_link == "https://meet.example/agency"
    assert db.session.get(InterviewRequest, request_row.id).status == "scheduled"
    assert db.session.scalar(select(Task.status).where(Task.interview_request_id == request_row.id)) == "done"
    assert deliver_mail() == 3  # the usual invitations: client, candidate, owner
    assert len(smtp.inbox.wait_for(3)) == 3

    shown = _text(contact_client.get(_candidate_page(desk)))
    assert ">Interview</h2>" in shown
    assert "Tue 11 Mar 2031, 11:00 (America/New_York)" in shown
    assert "Video call" in shown and "https://meet.example/agency" in shown
    assert "Accept Tue" not in shown
    assert "Request a further round" in shown


def test_a_time_already_taken_is_refused_with_a_clear_message(desk, request_row, recruiter_client, contact_client):
    slot = _propose(recruiter_client, request_row, meeting_link="https://meet.example/agency")
    make_interview(make_application(desk.job), desk.recruiter, AGENCY_SLOT + timedelta(minutes=30))
    db.session.commit()
    refused = contact_client.post(
        _candidate_page(desk) + "/interview/accept",
        data={"csrf_token": csrf_token(contact_client), "slot_id": slot.id},
    )
    assert refused.status_code == 409
    assert "That time was taken a moment ago, so nothing was booked." in _text(refused)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 1  # only the other one
    assert db.session.get(ProposedSlot, slot.id).accepted_at is None
    assert db.session.get(InterviewRequest, request_row.id).status == "open"


def test_none_of_these_work_withdraws_the_times_and_tells_the_owner(
    desk, request_row, recruiter_client, contact_client
):
    _propose(recruiter_client, request_row, meeting_link="https://meet.example/agency")
    asked = contact_client.post(
        _candidate_page(desk) + "/interview/other-times",
        data={"csrf_token": csrf_token(contact_client), "note": "Mornings next week, please"},
    )
    assert asked.status_code == 303
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(ProposedSlot).where(ProposedSlot.proposed_by == "agency"))
        == 0
    )
    alert = db.session.scalar(select(Alert).where(Alert.kind == "other_times_requested"))
    assert alert.user_id == desk.recruiter.id and "Mornings next week, please" in alert.message
    task = db.session.scalar(select(Task).where(Task.interview_request_id == request_row.id))
    assert task.status == "open"
    again = contact_client.post(
        _candidate_page(desk) + "/interview/other-times", data={"csrf_token": csrf_token(contact_client)}
    )
    assert again.status_code == 422 and "There are no proposed times to decline" in _text(again)
    assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "other_times_requested")) == 1
    page = _text(contact_client.get(_candidate_page(desk)))
    assert "Accept Tue" not in page and "Your recruiter is arranging the interview." in page

    # The recruiter's task lists the declined time, in both zones, so it is not proposed again.
    declined = re.search(
        r'<div id="declined-times">(.*?)</div>', _text(recruiter_client.get(f"/agency/tasks/{task.id}")), re.S
    )
    assert declined is not None
    assert "Tue 11 Mar 2031, 15:00 (Europe/London) · client: Tue 11 Mar 2031, 11:00 (America/New_York)" in (
        declined.group(1)
    )
    assert "Mon 10 Mar" not in declined.group(1)  # the client's own time was not declined


def test_without_a_place_the_accepted_time_waits_for_the_recruiter_and_the_candidate_may_book_it(
    desk, request_row, recruiter_client, contact_client
):
    slot = _propose(recruiter_client, request_row)  # a video proposal without its link
    url = interviews.send_self_schedule_link(request_row, desk.recruiter, meeting_link="https://meet.example/self")
    db.session.commit()
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    offered = _text(recruiter_client.get(path))
    assert "Monday 10 March 2031" in offered and "Tuesday 11 March" not in offered  # never accepted yet
    smuggled = recruiter_client.post(
        path, data={"csrf_token": csrf_token(recruiter_client), "slot_id": slot.id, "confirmed": "1"}
    )
    assert smuggled.status_code == 422 and "Choose one of the times." in _text(smuggled)

    accepted = contact_client.post(
        _candidate_page(desk) + "/interview/accept",
        data={"csrf_token": csrf_token(contact_client), "slot_id": slot.id},
    )
    assert accepted.status_code == 303
    db.session.expire_all()
    assert db.session.get(ProposedSlot, slot.id).accepted_at is not None
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0
    assert db.session.scalar(select(Alert.message).where(Alert.kind == "time_accepted")).startswith(desk.contact.name)
    assert (
        "you accepted tue 11 mar 2031, 11:00 (america/new_york)"
        in _text(contact_client.get(_candidate_page(desk))).lower()
    )
    task_page = _text(recruiter_client.get(f"/agency/tasks/{db.session.scalar(select(Task.id))}"))
    assert "Accepted by the client" in task_page
    assert "Tuesday 11 March 2031, 20:30" in _text(recruiter_client.get(path))  # now bookable, Kolkata time


def test_the_candidate_page_uses_the_chosen_zone_confirms_and_can_say_none_work(desk, request_row, client):
    url = interviews.send_self_schedule_link(request_row, desk.recruiter, meeting_link="https://meet.example/self")
    db.session.commit()
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    default = _text(client.get(path))
    assert "Monday 10 March 2031, 19:30–20:30 (Asia/Kolkata)" in default  # their recorded zone
    assert 'data-detect-zone="1"' in default and "js/schedule.js" in default and "<script>" not in default
    berlin = _text(client.get(path, query_string={"zone": "Europe/Berlin"}))
    assert "Monday 10 March 2031, 15:00–16:00 (Europe/Berlin)" in berlin and "data-detect-zone" not in berlin
    assert "(Asia/Kolkata)" not in berlin
    unknown = _text(client.get(path, query_string={"zone": "Mars/Olympus"}))
    assert "(Asia/Kolkata)" in unknown

    confirm = client.post(
        path,
        data={"csrf_token": csrf_token(client), "slot_id": request_row.proposed_slots[0].id, "zone": "Europe/Berlin"},
    )
    assert "Book this time?" in _text(confirm) and "Yes, book Monday 10 March, 15:00" in _text(confirm)
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0

    none = client.post(
        path + "/none", data={"csrf_token": csrf_token(client), "note": "Evenings", "zone": "Europe/Berlin"}
    )
    assert none.status_code == 200 and "none of these times work for you" in _text(none)
    assert "Rhea Recruiter" in _text(none)
    alert = db.session.scalar(select(Alert).where(Alert.kind == "candidate_other_times"))
    assert alert.user_id == desk.recruiter.id and "Evenings" in alert.message
    client.post(path + "/none", data={"csrf_token": csrf_token(client)})
    assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "candidate_other_times")) == 1

    booked = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            "slot_id": request_row.proposed_slots[0].id,
            "zone": "Europe/Berlin",
            "confirmed": "1",
        },
    )
    text = _text(booked)
    assert "Your interview is booked for Mon 10 Mar 2031, 15:00 (Europe/Berlin)" in text
    assert "calendar invitation is on its way" in text and "Rhea Recruiter" in text


def test_the_client_asks_for_a_further_round(desk, request_row, recruiter_client, contact_client):
    _confirm_client_time(recruiter_client, request_row)
    db.session.expire_all()
    assert db.session.get(InterviewRequest, request_row.id).status == "scheduled"
    form = contact_client.get(_candidate_page(desk) + "/interview")
    assert form.status_code == 200
    asked = contact_client.post(
        _candidate_page(desk) + "/interview",
        data={
            "csrf_token": csrf_token(contact_client),
            "format": "onsite",
            "timezone": "America/New_York",
            "slots-0-day": "2031-03-17",
            "slots-0-start": "09:00",
            "slots-0-minutes": "60",
            "notes": "Meet the team",
        },
    )
    assert asked.status_code == 303, _text(asked)
    db.session.expire_all()
    rounds = list(db.session.scalars(select(InterviewRequest).order_by(InterviewRequest.id)))
    assert [r.status for r in rounds] == ["scheduled", "open"] and rounds[1].format == "onsite"
    assert db.session.scalar(select(Interview.status)) == "scheduled"  # the first round stays booked
    assert (
        db.session.scalar(select(func.count()).select_from(Task).where(Task.interview_request_id == rounds[1].id)) == 1
    )
    page = _text(contact_client.get(_candidate_page(desk)))
    assert "Your recruiter is arranging another round." in page and "Request a further round" not in page


def test_cancelling_an_interview_asks_for_confirmation_first(desk, request_row, recruiter_client):
    interview = make_interview(desk.application, desk.recruiter, AGENCY_SLOT)
    db.session.commit()
    base = f"/agency/interviews/{interview.id}/cancel"
    step = recruiter_client.get(base)  # no script: a page of its own
    assert (
        step.status_code == 200
        and "Cancel the interview?" in _text(step)
        and "Yes, cancel the interview" in _text(step)
    )
    card = recruiter_client.get(base, headers=HX)
    assert "<html" not in _text(card) and "Yes, cancel the interview" in _text(card)
    unconfirmed = recruiter_client.post(base, data={"csrf_token": csrf_token(recruiter_client)}, headers=HX)
    assert unconfirmed.status_code == 200 and "Yes, cancel the interview" in _text(unconfirmed)
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "scheduled"
    done = recruiter_client.post(base, data={"csrf_token": csrf_token(recruiter_client), "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/agency/candidates/{desk.candidate.id}")
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "cancelled"


def test_suggestions_after_a_clash_show_both_zones_and_flag_out_of_hours(desk, request_row, recruiter_client):
    # The owner is busy at the client's time (14:00 London, 10:00 New York): the nearest free
    # London morning times are before 09:00 in New York.
    make_interview(make_application(desk.job), desk.recruiter, CLIENT_SLOT)
    db.session.commit()
    refused = _confirm_client_time(recruiter_client, request_row)
    assert refused.status_code == 422
    text = _text(refused)
    pairs = re.findall(
        r"(\w{3} \d+ Mar 2031, \d\d:\d\d \(Europe/London\)) · their time: ([^<]+\(America/New_York\))", text
    )
    assert len(pairs) == 3, text
    assert all(
        datetime.strptime(london[:-16], "%a %d %b %Y, %H:%M").hour - 4
        == datetime.strptime(ny[:-19], "%a %d %b %Y, %H:%M").hour
        for london, ny in pairs
    )
    early = [ny for _, ny in pairs if int(ny.split(", ")[1][:2]) < 9]
    assert text.count("Outside their working hours") == len(early)


def test_two_contacts_accepting_overlapping_times_at_once_book_exactly_one(app, desk, monkeypatch):
    """A race of real threads and real sessions: two candidates of one owner, each offered an
    agency time; the times overlap; both contacts accept at the same instant, round after round."""
    monkeypatch.setitem(app.config, "CLIENT_ACTION_RATE", "10000 per minute")
    rounds = 4
    work = []
    for n in range(rounds):
        start = AGENCY_SLOT + timedelta(days=n)
        pair = []
        for offset in (timedelta(0), timedelta(minutes=30)):
            application = make_application(desk.job)
            row = make_interview_request(
                application, desk.contact, [(start + timedelta(hours=3), start + timedelta(hours=4))]
            )
            (slot,) = interviews.propose_times(
                row,
                desk.recruiter,
                [start + offset],
                timedelta(hours=1),
                "Europe/London",
                meeting_link="https://meet.example/race",
                now=NOW,
            )
            db.session.flush()
            pair.append((application.id, slot.id))
        work.append(pair)
    db.session.commit()
    slug = desk.recruiter.agency.slug
    clients = []
    for _ in range(2):
        client = app.test_client()
        login_as(client, desk.contact)
        clients.append((client, csrf_token(client)))

    barrier = threading.Barrier(2)
    results: dict[int, list[int]] = {n: [] for n in range(rounds)}
    failures: list[BaseException] = []

    def accept(who: int) -> None:
        client, token = clients[who]
        try:
            for n, pair in enumerate(work):
                application_id, slot_id = pair[who]
                barrier.wait(30)
                response = client.post(
                    f"/{slug}/portal/candidates/{application_id}/interview/accept",
                    data={"csrf_token": token, "slot_id": slot_id},
                )
                results[n].append(response.status_code)
        except BaseException as exc:  # handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=accept, args=(who,)) for who in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    for n in range(rounds):
        assert sorted(results[n]) == [303, 409], results
    db.session.expire_all()
    booked = list(db.session.scalars(select(Interview).where(Interview.status == "scheduled")))
    assert len(booked) == rounds
    for n in range(rounds):
        day = (AGENCY_SLOT + timedelta(days=n)).date()
        assert len([i for i in booked if i.starts_at.astimezone(UTC).date() == day]) == 1
