"""The scheduling journey across three zones in a real browser (issue 13, item 4): a client in New
York proposes, the owner in London counter-proposes, the client accepts one of those times in one
tap (the interview is confirmed), asks for a further round that the candidate in Berlin books
through their link (confirming the time first), the owner reschedules and then cancels the first
interview (confirming first). Then the client rejects the candidate while the second round is
booked: an Undo in time cancels nothing; a reject left standing cancels it once the Undo window has
closed (the worker's step), for everyone. Every e-mail and ``.ics`` is parsed: the right instant,
the right zone per recipient, no foreign addresses or hidden fields, the same UID and a rising
SEQUENCE; at the end nothing is left booked or open.

The dates fall, next year, in the week after the US daylight-saving change (March's second Sunday)
and before the European one (its last Sunday): New York is UTC-4, London UTC+0, Berlin UTC+1."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, Interview, InterviewRequest, Task, as_utc, utcnow
from portal.services.auth import email_landing_link
from portal.services.client_actions import UNDO_GRACE, UNDO_WINDOW
from portal.services.interviews import format_in_zone
from portal.worker import cancel_interviews_of_rejected, deliver_mail
from tests.e2e.browser import assert_accessible, link_from_mail, wait_for_htmx, watch_csp
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.e2e

NEW_YORK, LONDON, BERLIN = "America/New_York", "Europe/London", "Europe/Berlin"


def _monday_between_the_changes() -> date:
    """The Monday after next year's US change to summer time (March's second Sunday): all that
    week New York is UTC-4 while London is still UTC+0 and Berlin UTC+1 (Europe changes on
    March's last Sunday, the 25th at the earliest). Next year's, so the times are always ahead."""
    first = date(utcnow().year + 1, 3, 1)
    second_sunday = first + timedelta(days=(6 - first.weekday()) % 7 + 7)
    return second_sunday + timedelta(days=1)


def _at(days: int, hour: int) -> datetime:
    return datetime.combine(_monday_between_the_changes() + timedelta(days=days), time(hour), UTC)


CLIENT_TIME = _at(0, 14)  # Mon 10:00 New York
AGENCY_TIME = _at(1, 15)  # Tue 15:00 London, 11:00 New York
SECOND_ROUND = _at(3, 13)  # Thu 09:00 New York, 14:00 Berlin
MOVED_TO = _at(2, 16)  # Wed 16:00 London


# Ids used more than once on the page, and labels whose field is missing.
DUPLICATE_IDS = """() => {
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  const orphans = [...document.querySelectorAll('label[for]')]
    .map(l => l.htmlFor)
    .filter(f => !document.getElementById(f));
  return [...repeated, ...orphans];
}"""


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("counter-e2e")
        tenant.recruiter.timezone = LONDON
        tenant.contact.timezone = LONDON  # stored, never set by them: their requests' zone wins
        tenant.application.candidate.timezone = BERLIN
        tenant.application.candidate.phone = "+49 30 5550 1234"  # hidden from the client until hire
        tenant.contact.phone = "+1 212 555 0188"
        db.session.commit()
        yield tenant


def _sign_in_recruiter(page, live_server, tenant):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill(tenant.recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")


def _client_page(smtp, browser, tenant):
    email_landing_link(tenant.contact, tenant.job, tenant.recruiter)
    db.session.commit()
    deliver_mail()
    (received,) = smtp.inbox.wait_for(1)
    smtp.inbox.clear()
    context = browser.new_context(timezone_id=NEW_YORK)
    client = context.new_page()
    client.goto(link_from_mail(received["message"]))
    client.get_by_role("button", name="Continue").click()
    expect(client.get_by_role("heading", level=1)).to_have_text(tenant.job.title)
    return client


def _mails(smtp, count, alerts=0, now=None):
    """Deliver the outbox; the ``count`` messages received, by recipient, and the inbox cleared.
    ``alerts``: how many messages without an invitation (the owner's alerts) come beside ``count``
    invitations; then the invitations and those alerts are returned apart. ``now``: the worker's
    clock (mail held for an Undo window goes once it has passed)."""
    assert deliver_mail(now=now) == count + alerts
    received = smtp.inbox.wait_for(count + alerts)
    assert len(received) == count + alerts
    smtp.inbox.clear()
    if not alerts:
        return {item["to"][0]: item["message"] for item in received}

    def invitation(item) -> bool:
        return any(p.get_content_type() == "text/calendar" for p in item["message"].walk())

    invitations = {item["to"][0]: item["message"] for item in received if invitation(item)}
    assert len(invitations) == count
    return invitations, [item for item in received if not invitation(item)]


def _drain(smtp) -> None:
    """Deliver and forget what is queued (the owner's alerts about the client's requests)."""
    sent = deliver_mail()
    if sent:
        smtp.inbox.wait_for(sent)
    smtp.inbox.clear()


def _check_invitations(received, interview, method, sequence, instant, zones, forbidden):
    """Each recipient's mail and ``.ics``: the instant, their zone, the UID and SEQUENCE, and none
    of the addresses they may not see."""
    assert set(received) == set(zones)
    for address, message in received.items():
        zone_name = zones[address]
        (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        calendar = icalendar.Calendar.from_ical(part.get_content())
        assert str(calendar["METHOD"]) == method
        (event,) = calendar.walk("VEVENT")
        assert str(event["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
        start = event.decoded("DTSTART")
        assert start == instant, address
        assert str(start.tzinfo) == zone_name, address
        assert str(event["UID"]) == interview.ics_uid
        assert int(event["SEQUENCE"]) == sequence
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert format_in_zone(instant, zone_name) in text, (address, text)
        whole = message.as_string()
        for other in forbidden.get(address, ()):
            assert other not in whole and other not in part.get_content(), (address, other)


# The live server runs in this process: its clock is moved to a week before the times, whatever today is.
@pytest.mark.time_machine(CLIENT_TIME - timedelta(days=7))
def test_propose_counter_propose_accept_confirm_reschedule_cancel_across_zones(
    app, smtp, live_server, tenant, page, browser, artifacts
):
    csp_errors = watch_csp(page)
    application = tenant.application
    candidate = application.candidate
    contact_email, candidate_email, owner_email = tenant.contact.email, candidate.primary_email, tenant.recruiter.email
    zones = {contact_email: NEW_YORK, candidate_email: BERLIN, owner_email: LONDON}
    # The client never sees the candidate's address or phone (hidden until hire), the candidate never
    # the client's.
    forbidden = {
        contact_email: (candidate_email, candidate.phone),
        candidate_email: (contact_email, tenant.contact.phone),
    }
    candidate_url = f"{live_server.url}/{tenant.agency.slug}/portal/candidates/{application.id}"

    # 1. The client in New York proposes Monday 10:00 (their browser's zone is detected).
    client = _client_page(smtp, browser, tenant)
    client_csp = watch_csp(client)
    client.goto(candidate_url)
    client.get_by_role("link", name="Request interview").click()
    expect(client.get_by_label("Your timezone")).to_have_value(NEW_YORK)
    client.get_by_label("Date of time 1").fill(f"{CLIENT_TIME:%Y-%m-%d}")
    client.get_by_label("Start of time 1").fill("10:00")
    client.get_by_role("button", name="Request interview").click()
    expect(client).to_have_url(candidate_url)
    task_id = db.session.scalar(select(Task.id).where(Task.application_id == application.id))
    _drain(smtp)

    # 2. The owner in London counter-proposes Tuesday 15:00 with the meeting link.
    _sign_in_recruiter(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/tasks/{task_id}")
    expect(page.locator("#slots")).to_contain_text("14:00–15:00 (Europe/London)")
    page.get_by_label("First time").fill(f"{AGENCY_TIME:%Y-%m-%dT%H:%M}")
    page.get_by_label("Meeting link (lets the client accept in one tap)").fill("https://meet.example/journey")
    page.get_by_role("button", name="Send these times").click()
    expect(page.get_by_text("The new times were sent to the client.")).to_be_visible()
    expect(page.locator("#slots")).to_contain_text("15:00–16:00 (Europe/London)")
    (proposal,) = _mails(smtp, 1).items()
    assert proposal[0] == contact_email
    proposal_text = proposal[1].get_body(preferencelist=("plain",)).get_content()
    assert format_in_zone(AGENCY_TIME, NEW_YORK) in proposal_text and candidate_email not in proposal_text

    # 3. The client accepts it in one tap: the interview is confirmed, invitations go out.
    client.reload()
    accept = client.get_by_role("button", name=f"Accept {format_in_zone(AGENCY_TIME, NEW_YORK)}")
    expect(accept).to_be_visible()
    expect(client.get_by_role("button", name="None of these work")).to_be_visible()
    assert_accessible(client, "client candidate page with proposed times")
    accept.click()
    section = client.locator("#interview-section")
    expect(section.get_by_role("heading", name="Interview")).to_be_visible()
    expect(section).to_contain_text(format_in_zone(AGENCY_TIME, NEW_YORK))
    expect(section).to_contain_text("Video call")
    expect(section.get_by_role("link", name="https://meet.example/journey")).to_be_visible()
    assert_accessible(client, "client candidate page with the interview")
    client.set_viewport_size({"width": 375, "height": 812})
    client.screenshot(path=str(artifacts / "client-interview-375.png"), full_page=True)
    first = db.session.scalar(select(Interview).where(Interview.application_id == application.id))
    _check_invitations(_mails(smtp, 3), first, "REQUEST", 0, AGENCY_TIME, zones, forbidden)

    # 4. A further round: the client asks (phone), the owner lets the candidate choose.
    client.get_by_role("link", name="Request a further round").click()
    client.get_by_label("Phone call").check()
    client.get_by_label("Date of time 1").fill(f"{SECOND_ROUND:%Y-%m-%d}")
    client.get_by_label("Start of time 1").fill("09:00")
    client.get_by_role("button", name="Request interview").click()
    expect(client.locator("#interview-section")).to_contain_text("Your recruiter is arranging another round.")
    second_request = db.session.scalar(
        select(InterviewRequest).where(
            InterviewRequest.status == "open", InterviewRequest.application_id == application.id
        )
    )
    second_task = db.session.scalar(select(Task.id).where(Task.interview_request_id == second_request.id))
    _drain(smtp)
    page.goto(f"{live_server.url}/agency/tasks/{second_task}")
    page.get_by_role("button", name="Email the candidate a scheduling link").click()
    expect(page.get_by_text("The candidate was emailed a link to choose a time.")).to_be_visible()
    (link_mail,) = _mails(smtp, 1).values()
    assert format_in_zone(SECOND_ROUND, BERLIN) in link_mail.get_body(preferencelist=("plain",)).get_content()

    # 5. The candidate in Berlin: their browser's zone, a confirm step, then what happened.
    candidate_page = browser.new_context(timezone_id=BERLIN).new_page()
    candidate_csp = watch_csp(candidate_page)
    candidate_page.goto(link_from_mail(link_mail))
    expect(candidate_page.get_by_label("Show times in")).to_have_value(BERLIN)
    in_berlin, agency_day = SECOND_ROUND.astimezone(ZoneInfo(BERLIN)), AGENCY_TIME.astimezone(ZoneInfo(LONDON))
    day_long = f"{in_berlin:%A} {in_berlin.day} {in_berlin:%B}"  # "Thursday 13 March"
    expect(candidate_page.get_by_text(f"{day_long} {in_berlin:%Y}, 14:00–15:00 (Europe/Berlin)")).to_be_visible()
    # the agency's time was for round one
    assert f"{agency_day:%A} {agency_day.day} {agency_day:%B}" not in candidate_page.content()
    assert_accessible(candidate_page, "candidate scheduling page")
    candidate_page.get_by_role("button", name=f"Choose {day_long}, 14:00").click()
    expect(candidate_page.get_by_role("heading", name="Book this time?")).to_be_visible()
    assert_accessible(candidate_page, "candidate confirm step")
    candidate_page.get_by_role("button", name=f"Yes, book {day_long}, 14:00").click()
    expect(candidate_page.locator("#schedule-confirmed")).to_contain_text(
        f"Your interview is booked for {format_in_zone(SECOND_ROUND, BERLIN)}"
    )
    assert_accessible(candidate_page, "candidate booked")
    second = db.session.scalar(select(Interview).where(Interview.request_id == second_request.id))
    _check_invitations(_mails(smtp, 3), second, "REQUEST", 0, SECOND_ROUND, zones, forbidden)
    assert second.ics_uid != first.ics_uid

    # 6. The owner moves the first interview, then cancels it after confirming.
    page.goto(f"{live_server.url}/agency/candidates/{candidate.id}")
    card = page.locator(f"#interview-{first.id}")
    # Two interview cards, each with its own form: no id is repeated, each label names its own field.
    assert page.evaluate(DUPLICATE_IDS) == []
    card.get_by_label("New start", exact=True).fill(f"{MOVED_TO:%Y-%m-%dT%H:%M}")
    card.get_by_role("button", name="Reschedule").click()
    expect(card).to_contain_text("Moved; updated invitations are on their way.")
    _check_invitations(_mails(smtp, 3), first, "REQUEST", 1, MOVED_TO, zones, forbidden)
    wait_for_htmx(page)
    card.get_by_role("link", name="Cancel interview").click()
    expect(card.get_by_role("button", name="Yes, cancel the interview")).to_be_visible()
    assert_accessible(page, "cancel confirm step")
    assert deliver_mail() == 0  # nothing was cancelled before the confirmation
    card.get_by_role("button", name="Yes, cancel the interview").click()
    expect(card).to_contain_text("Cancelled; everyone has been told.")
    cancellations, alerts = _mails(smtp, 3, alerts=1)
    _check_invitations(cancellations, first, "CANCEL", 2, MOVED_TO, zones, forbidden)
    # The cancel reopened the request: the owner is alerted to re-arrange it.
    (alert,) = alerts
    assert alert["to"] == [owner_email]
    body = alert["message"].get_body(preferencelist=("plain",)).get_content()
    assert "cancelled: re-arrange it." in " ".join(body.split()), body

    db.session.expire_all()
    assert db.session.get(Interview, first.id).status == "cancelled"
    assert db.session.get(Interview, second.id).status == "scheduled"
    client.reload()
    expect(client.locator("#interview-section")).to_contain_text(format_in_zone(SECOND_ROUND, NEW_YORK))
    expect(client.locator("#interview-section")).not_to_contain_text("Wed 12 Mar")

    # 7. The client rejects the candidate, whose second round is booked, and undoes it in time:
    #    nothing is cancelled or sent, and the re-arrange work on round one is back.
    decision = client.locator(f"#decision-{application.id}")
    decision.get_by_role("button", name="Reject").click()
    expect(decision.get_by_role("button", name="Undo")).to_be_visible()
    assert_accessible(client, "client candidate page with Undo")
    decision.get_by_role("button", name="Undo").click()
    expect(decision.get_by_role("button", name="Reject")).to_be_visible()
    later = utcnow() + timedelta(minutes=5)  # the browser's reject was stamped by the real clock
    assert cancel_interviews_of_rejected(now=later) == 0
    assert deliver_mail(now=later) == 0  # the owner's reject alert was withdrawn with it
    db.session.expire_all()
    assert db.session.get(Interview, second.id).status == "scheduled"
    assert db.session.get(InterviewRequest, first.request_id).status == "open"  # reopened by the cancel
    rearrange = db.session.scalar(select(Task).where(Task.title.like("Re-arrange interview%")))
    assert rearrange.status == "open" and rearrange.interview_request_id == first.request_id

    # 8. The client rejects again and lets the Undo run out: the worker's step cancels the booked
    #    round for everyone once the window (and its grace) has closed, not before.
    decision.get_by_role("button", name="Reject").click()
    expect(decision.get_by_role("button", name="Undo")).to_be_visible()
    db.session.expire_all()
    rejected_at = as_utc(db.session.get(Application, application.id).closed_at)
    assert cancel_interviews_of_rejected(now=rejected_at + UNDO_WINDOW) == 0
    closed = rejected_at + UNDO_WINDOW + UNDO_GRACE + timedelta(seconds=1)
    assert cancel_interviews_of_rejected(now=closed) == 1
    cancellations, alerts = _mails(smtp, 3, alerts=1, now=closed)
    _check_invitations(cancellations, second, "CANCEL", 1, SECOND_ROUND, zones, forbidden)
    (alert,) = alerts  # the owner learns of the reject (held for the Undo window)
    assert alert["to"] == [owner_email] and "rejected" in alert["message"]["Subject"].lower()
    assert cancel_interviews_of_rejected(now=closed) == 0  # a second pass finds nothing

    # Nothing is left booked or open that should not be: no interview, no request, no interview
    # task; only the feedback the candidate is owed.
    db.session.expire_all()
    assert db.session.get(Application, application.id).client_status == "rejected_by_client"
    assert {
        i.status for i in db.session.scalars(select(Interview).where(Interview.application_id == application.id))
    } == {"cancelled"}
    assert (
        db.session.scalar(
            select(InterviewRequest.id).where(
                InterviewRequest.application_id == application.id, InterviewRequest.status == "open"
            )
        )
        is None
    )
    open_tasks = db.session.scalars(
        select(Task.type).where(Task.application_id == application.id, Task.status == "open")
    ).all()
    assert open_tasks == ["send_feedback"]
    client.reload()
    expect(client.locator(f"#status-{application.id}")).to_contain_text("Rejected by client")
    expect(client.locator("#interview-section")).to_have_count(0)
    page.goto(f"{live_server.url}/agency/candidates/{candidate.id}")
    expect(page.locator(f"#interview-{second.id}")).to_contain_text("Cancelled")
    expect(page.locator(f"#interview-{second.id}").get_by_role("button", name="Reschedule")).to_have_count(0)
    assert page.evaluate(DUPLICATE_IDS) == []
    assert csp_errors == [] and client_csp == [] and candidate_csp == []
