"""Interview scheduling (A5): zones across daylight saving, conflicts, free windows, invitations."""

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Application, Interview, InterviewRequest, MailOutbox, Task, User
from portal.services import ServiceError
from portal.services.interviews import (
    SchedulingConflict,
    cancel_interview,
    confirm_interview,
    free_windows,
    propose_times,
    reschedule_interview,
    slots_in_zones,
    to_utc,
)
from portal.unit_of_work import unit_of_work
from portal.worker import deliver_mail
from tests.agency.conftest import FRIDAY_BEFORE_US_DST
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_interview,
    make_interview_request,
    make_job,
    make_user,
)

NEW_YORK, LONDON, KOLKATA = ZoneInfo("America/New_York"), ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")
UTC = UTC
# Monday 9 March 2026, 10:00 in New York: the first weekday after the US clocks went forward
# (EDT, UTC-4) while London is still on GMT: 14:00 UTC, 14:00 London, 19:30 Kolkata.
MONDAY_10_NEW_YORK = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)


def _request(desk, starts, minutes=60, **kw):
    return make_interview_request(
        desk.application,
        desk.contact,
        [(s.astimezone(UTC), s.astimezone(UTC) + timedelta(minutes=minutes)) for s in starts],
        timezone="America/New_York",
        **kw,
    )


def test_proposed_slot_across_us_dst_is_shown_in_both_zones(desk):
    request = _request(desk, [MONDAY_10_NEW_YORK])
    (view,) = slots_in_zones(request, desk.recruiter)
    assert view.slot.starts_at.replace(tzinfo=UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert (view.owner_zone, view.owner_start.strftime("%H:%M %Z")) == ("Europe/London", "14:00 GMT")
    assert (view.proposer_zone, view.proposer_start.strftime("%H:%M %Z")) == ("America/New_York", "10:00 EDT")
    assert view.conflicts == []


def _ics_parts(message):
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def test_confirm_emails_each_recipient_an_ics_in_their_zone_for_the_same_instant(desk, smtp):
    request = _request(desk, [MONDAY_10_NEW_YORK])
    interview = confirm_interview(
        request,
        desk.recruiter,
        slot_id=request.proposed_slots[0].id,
        meeting_link="https://meet.example/abc",
        now=FRIDAY_BEFORE_US_DST,
    )
    db.session.commit()
    assert interview.status == "scheduled"
    assert db.session.get(Application, desk.application.id).client_status == "interview_scheduled"
    assert db.session.get(InterviewRequest, request.id).status == "scheduled"
    task = db.session.scalar(select(Task).where(Task.interview_request_id == request.id))
    assert task.status == "done" and all(item.done for item in task.checklist)

    assert deliver_mail() == 3
    received = {m["to"][0]: m["message"] for m in smtp.inbox.wait_for(3)}
    expected = {
        desk.contact.email: ("America/New_York", "10:00"),
        desk.candidate.primary_email: ("Asia/Kolkata", "19:30"),
        desk.recruiter.email: ("Europe/London", "14:00"),
    }
    assert set(received) == set(expected)
    for address, (zone_name, local_time) in expected.items():
        message = received[address]
        (part,) = _ics_parts(message)
        assert part.get_param("method") == "REQUEST"
        raw = part.get_content()
        calendar = icalendar.Calendar.from_ical(raw)
        assert calendar["METHOD"] == "REQUEST"
        (event,) = calendar.walk("VEVENT")
        start = event.decoded("DTSTART")
        assert start == datetime(2026, 3, 9, 14, 0, tzinfo=UTC), address
        assert str(start.tzinfo) == zone_name
        assert f"DTSTART;TZID={zone_name}:20260309T{local_time.replace(':', '')}00" in raw
        assert str(event["UID"]) == interview.ics_uid and int(event["SEQUENCE"]) == 0
        assert str(event["LOCATION"]) == "https://meet.example/abc"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert f"{local_time} ({zone_name})" in text


def test_reschedule_and_cancel_keep_the_uid_and_raise_the_sequence(desk, smtp):
    request = _request(desk, [MONDAY_10_NEW_YORK])
    interview = confirm_interview(
        request,
        desk.recruiter,
        slot_id=request.proposed_slots[0].id,
        meeting_link="https://meet.example/abc",
        now=FRIDAY_BEFORE_US_DST,
    )
    db.session.commit()
    deliver_mail()
    smtp.inbox.wait_for(3)
    smtp.inbox.clear()
    reschedule_interview(interview, desk.recruiter, datetime(2026, 3, 10, 15, 0, tzinfo=UTC), now=FRIDAY_BEFORE_US_DST)
    db.session.commit()
    cancel_interview(interview, desk.recruiter, now=FRIDAY_BEFORE_US_DST)
    db.session.commit()
    # Three updates, three cancellations, and the owner's alert to re-arrange it.
    assert deliver_mail() == 7
    messages = [m for m in smtp.inbox.wait_for(7) if _ics_parts(m["message"])]
    assert len(messages) == 6
    seen = []
    for item in messages:
        (part,) = _ics_parts(item["message"])
        calendar = icalendar.Calendar.from_ical(part.get_content())
        (event,) = calendar.walk("VEVENT")
        assert str(event["UID"]) == interview.ics_uid
        seen.append((str(calendar["METHOD"]), int(event["SEQUENCE"]), event.decoded("DTSTART")))
    assert sorted({(m, s) for m, s, _ in seen}) == [("CANCEL", 2), ("REQUEST", 1)]
    assert {start for _, _, start in seen} == {datetime(2026, 3, 10, 15, 0, tzinfo=UTC)}
    # The request is open again, so the client sees the interview still asked for.
    assert db.session.get(Application, desk.application.id).client_status == "interview_requested"


def test_taken_slot_is_refused_with_the_nearest_free_windows(desk):
    other = make_application(desk.job)
    make_interview(other, desk.recruiter, datetime(2026, 3, 9, 14, 0, tzinfo=UTC))
    request = _request(desk, [datetime(2026, 3, 9, 14, 20, tzinfo=UTC)], minutes=40)
    (view,) = slots_in_zones(request, desk.recruiter)
    assert len(view.conflicts) == 1
    with pytest.raises(SchedulingConflict) as refused:
        confirm_interview(
            request,
            desk.recruiter,
            slot_id=request.proposed_slots[0].id,
            meeting_link="https://meet.example/x",
            now=FRIDAY_BEFORE_US_DST,
        )
    assert "job owner" in refused.value.message
    assert refused.value.suggestions == [
        datetime(2026, 3, 9, h, m, tzinfo=UTC) for h, m in ((13, 20), (15, 0), (15, 20))
    ]
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 1


def test_candidates_other_interview_is_a_conflict_too(desk):
    colleague = make_user(db.session.get(User, desk.recruiter.id).agency, timezone="Europe/London")
    other_job_application = make_application(make_job(desk.job.company, colleague), desk.candidate)
    make_interview(other_job_application, colleague, datetime(2026, 3, 9, 13, 30, tzinfo=UTC))
    request = _request(desk, [MONDAY_10_NEW_YORK])
    with pytest.raises(SchedulingConflict) as refused:
        confirm_interview(
            request,
            desk.recruiter,
            slot_id=request.proposed_slots[0].id,
            meeting_link="https://meet.example/x",
            now=FRIDAY_BEFORE_US_DST,
        )
    assert "the candidate" in refused.value.message
    assert refused.value.suggestions[0] >= datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    busy_start, busy_end = datetime(2026, 3, 9, 13, 30, tzinfo=UTC), datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
    assert all(s >= busy_end or s + timedelta(hours=1) <= busy_start for s in refused.value.suggestions)


def test_free_windows_in_a_half_hour_zone_follow_the_local_20_minute_grid(ctx):
    agency = make_agency()
    owner = make_user(agency, timezone="Asia/Kolkata")
    candidate = make_candidate(agency)
    around = datetime(2026, 3, 9, 10, 5, tzinfo=KOLKATA)
    found = free_windows(owner, candidate.id, around, timedelta(minutes=20), now=FRIDAY_BEFORE_US_DST)
    assert [f.astimezone(KOLKATA).strftime("%H:%M") for f in found] == ["09:40", "10:00", "10:20"]
    assert [f.strftime("%H:%M") for f in found] == ["04:10", "04:30", "04:50"]

    # A busy 10:00 IST (given in the owner's zone, not UTC) is skipped on every database.
    application = make_application(make_job(make_company(agency), owner), candidate)
    make_interview(application, owner, datetime(2026, 3, 9, 10, 0, tzinfo=KOLKATA), minutes=20)
    found = free_windows(owner, candidate.id, around, timedelta(minutes=20), now=FRIDAY_BEFORE_US_DST)
    assert [f.astimezone(KOLKATA).strftime("%H:%M") for f in found] == ["09:40", "10:20", "10:40"]


def test_free_windows_stay_inside_the_owners_working_hours(ctx):
    agency = make_agency()
    owner = make_user(agency, timezone="Asia/Kolkata")
    candidate = make_candidate(agency)
    friday_evening = datetime(2026, 3, 6, 17, 50, tzinfo=KOLKATA)
    found = free_windows(
        owner, candidate.id, friday_evening, timedelta(hours=1), now=datetime(2026, 3, 6, 0, 0, tzinfo=UTC)
    )
    assert [f.astimezone(KOLKATA).strftime("%a %H:%M") for f in found] == ["Fri 16:20", "Fri 16:40", "Fri 17:00"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"slot_id": None}, "Choose one of the proposed times."),
        ({"starts_at": datetime(2026, 3, 5, 9, 0, tzinfo=UTC)}, "That time has already passed; choose a later one."),
        ({"meeting_link": ""}, "A video interview needs a meeting link."),
    ],
)
def test_confirm_refusals(desk, kwargs, message):
    request = _request(desk, [MONDAY_10_NEW_YORK])
    options = {"slot_id": request.proposed_slots[0].id, "meeting_link": "https://meet.example/x", **kwargs}
    if "starts_at" in kwargs:
        options.pop("slot_id")
    with pytest.raises(ServiceError) as refused:
        confirm_interview(request, desk.recruiter, now=FRIDAY_BEFORE_US_DST, **options)
    assert refused.value.message == message
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0


def test_onsite_needs_a_location_and_a_closed_request_cannot_be_confirmed(desk):
    request = _request(desk, [MONDAY_10_NEW_YORK], format="onsite")
    db.session.commit()
    with pytest.raises(ServiceError, match="needs a location"):
        confirm_interview(request, desk.recruiter, slot_id=request.proposed_slots[0].id, now=FRIDAY_BEFORE_US_DST)
    db.session.rollback()
    request.status = "cancelled"
    db.session.commit()
    with pytest.raises(ServiceError, match="no longer open"):
        confirm_interview(
            request, desk.recruiter, slot_id=request.proposed_slots[0].id, location="HQ", now=FRIDAY_BEFORE_US_DST
        )


def test_a_closed_application_cannot_get_an_interview(desk):
    request = _request(desk, [MONDAY_10_NEW_YORK], format="phone")
    desk.application.outcome = "withdrawn"
    db.session.commit()
    with pytest.raises(ServiceError, match="application is closed"):
        confirm_interview(request, desk.recruiter, slot_id=request.proposed_slots[0].id, now=FRIDAY_BEFORE_US_DST)
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0


@pytest.mark.parametrize(
    ("status", "after"),
    [("interview_requested", "interview_scheduled"), ("hire_requested", "hire_requested")],
)
def test_confirming_shows_the_interview_unless_a_hire_is_already_requested(desk, status, after):
    request = _request(desk, [MONDAY_10_NEW_YORK], format="phone")
    desk.application.client_status = status
    db.session.commit()
    confirm_interview(request, desk.recruiter, slot_id=request.proposed_slots[0].id, now=FRIDAY_BEFORE_US_DST)
    assert desk.application.client_status == after


def test_counter_proposal_adds_agency_slots_and_emails_the_client_in_their_zone(desk, smtp):
    request = _request(desk, [MONDAY_10_NEW_YORK])
    propose_times(
        request,
        desk.recruiter,
        [datetime(2026, 3, 11, 9, 0, tzinfo=LONDON)],
        timedelta(minutes=45),
        "Europe/London",
        now=FRIDAY_BEFORE_US_DST,
    )
    db.session.commit()
    slots = db.session.get(InterviewRequest, request.id).proposed_slots
    assert [(s.proposed_by, s.timezone) for s in slots] == [("client", "America/New_York"), ("agency", "Europe/London")]
    assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["to"] == [desk.contact.email]
    assert "05:00 (America/New_York)" in received["message"].get_body(preferencelist=("plain",)).get_content()


def _confirm_at_once(app, starts: list[datetime]) -> tuple[list[str], int]:
    """One interview request per start for one recruiter (London), all confirmed at the same moment
    from threads of their own. Returns each confirmation's outcome ("confirmed", "refused" or the
    error, named) and the recruiter's id."""
    with app.app_context():
        agency = make_agency()
        owner = make_user(agency, timezone="Europe/London")
        company = make_company(agency)
        contact = make_contact(company)
        job = make_job(company, owner)
        request_ids = []
        for start in starts:
            request = make_interview_request(make_application(job), contact, [(start, start + timedelta(hours=1))])
            request_ids.append(request.id)
        db.session.commit()
        owner_id = owner.id

    barrier = threading.Barrier(len(request_ids))
    outcomes: list[str] = []

    def confirm(request_id):
        with app.app_context():
            request = db.session.get(InterviewRequest, request_id)
            user = db.session.get(User, owner_id)
            slot_id = request.proposed_slots[0].id
            db.session.rollback()  # end the read transaction: every thread starts from the same place
            barrier.wait()
            try:
                with unit_of_work():
                    confirm_interview(
                        request, user, slot_id=slot_id, meeting_link="https://meet.example/x", now=FRIDAY_BEFORE_US_DST
                    )
                outcomes.append("confirmed")
            except SchedulingConflict:
                outcomes.append("refused")
            except Exception as exc:  # recorded, so the assertion names it
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(rid,)) for rid in request_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, owner_id


def _scheduled(owner_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Interview)
        .where(Interview.owner_id == owner_id, Interview.status == "scheduled")
    )


# On PostgreSQL the row locks of _lock_people serialise the two; on SQLite the unit of work's
# BEGIN IMMEDIATE does (without it both passed the conflict check: a double booking).
@pytest.mark.parametrize("second_start_minutes", [0, 30], ids=["same start", "overlapping start"])
def test_two_concurrent_confirmations_for_one_owner_never_both_succeed(app, second_start_minutes):
    starts = [datetime(2026, 3, 9, 14, 0, tzinfo=UTC), datetime(2026, 3, 9, 14, second_start_minutes, tzinfo=UTC)]
    outcomes, owner_id = _confirm_at_once(app, starts)
    assert sorted(outcomes) == ["confirmed", "refused"]
    with app.app_context():
        assert _scheduled(owner_id) == 1
        assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 3


def test_fifty_concurrent_confirmations_book_exactly_one_interview(app):
    """The measured race: 50 requests for one recruiter, overlapping starts, confirmed at once. One
    interview is booked; the other 49 are refused as conflicts, none fails with another error (no
    "database is locked" on SQLite: each waits for the write lock, then sees the booking)."""
    first = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    outcomes, owner_id = _confirm_at_once(app, [first + timedelta(minutes=n % 4 * 15) for n in range(50)])
    assert sorted(outcomes) == ["confirmed"] + ["refused"] * 49
    with app.app_context():
        assert _scheduled(owner_id) == 1


def test_reschedule_into_a_taken_time_is_refused_and_cancel_twice_is_refused(desk):
    request = _request(desk, [MONDAY_10_NEW_YORK])
    interview = confirm_interview(
        request,
        desk.recruiter,
        slot_id=request.proposed_slots[0].id,
        meeting_link="https://meet.example/abc",
        now=FRIDAY_BEFORE_US_DST,
    )
    make_interview(make_application(desk.job), desk.recruiter, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    db.session.commit()
    with pytest.raises(SchedulingConflict) as refused:
        reschedule_interview(
            interview, desk.recruiter, datetime(2026, 3, 10, 9, 20, tzinfo=UTC), now=FRIDAY_BEFORE_US_DST
        )
    assert refused.value.suggestions == [
        datetime(2026, 3, 10, h, m, tzinfo=UTC) for h, m in ((10, 0), (10, 20), (10, 40))
    ]
    db.session.rollback()
    assert (interview.ics_sequence, to_utc(interview.starts_at)) == (0, datetime(2026, 3, 9, 14, 0, tzinfo=UTC))
    cancel_interview(interview, desk.recruiter, now=FRIDAY_BEFORE_US_DST)
    with pytest.raises(ServiceError, match="already cancelled"):
        cancel_interview(interview, desk.recruiter, now=FRIDAY_BEFORE_US_DST)


def test_each_invite_is_in_the_askers_chosen_zone_and_lists_only_addresses_its_reader_may_see(desk, smtp):
    """The contact asked in New York time while their profile says London (never set by them): their
    invitation is in New York time. The candidate's invitation names no one from the client; the
    client's names the candidate only when the share shows contact details (not by default)."""
    desk.contact.timezone = "Europe/London"
    request = _request(desk, [MONDAY_10_NEW_YORK])
    confirm_interview(
        request,
        desk.recruiter,
        slot_id=request.proposed_slots[0].id,
        meeting_link="https://meet.example/z",
        now=FRIDAY_BEFORE_US_DST,
    )
    db.session.commit()
    assert deliver_mail() == 3
    received = {m["to"][0]: m["message"] for m in smtp.inbox.wait_for(3)}

    def attendees(address):
        (part,) = _ics_parts(received[address])
        (event,) = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
        found = event.get("ATTENDEE")
        return {str(a).removeprefix("mailto:") for a in (found if isinstance(found, list) else [found])}

    (client_part,) = _ics_parts(received[desk.contact.email])
    assert "DTSTART;TZID=America/New_York:20260309T100000" in client_part.get_content()
    assert "10:00 (America/New_York)" in received[desk.contact.email].get_body(("plain",)).get_content()
    assert attendees(desk.candidate.primary_email) == {desk.candidate.primary_email, desk.recruiter.email}
    assert attendees(desk.contact.email) == {desk.contact.email, desk.recruiter.email}
    assert attendees(desk.recruiter.email) == {desk.contact.email, desk.candidate.primary_email, desk.recruiter.email}
