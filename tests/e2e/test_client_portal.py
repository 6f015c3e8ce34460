"""The client journey in Chromium (C2–C11), starting from the mail the real SMTP server got:
link → Continue → home → job → candidate → rate → request interview (New York) → hire another
→ reject a third → Undo → reject again with a reason. axe-core on every client page."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, InterviewRequest, LoginToken, Resume, Task, utcnow
from portal.services.auth import email_landing_link, landing_link
from portal.worker import deliver_mail
from tests.e2e.browser import assert_accessible, link_from_mail, wait_for_htmx, watch_csp
from tests.factories import make_application, make_tenant

pytestmark = pytest.mark.e2e
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def journey(app):
    with app.app_context():
        tenant = make_tenant("journey")
        second, third = make_application(tenant.job), make_application(tenant.job)
        db.session.add(
            Resume(
                agency_id=tenant.agency.id,
                candidate_id=tenant.application.candidate_id,
                filename="cv.pdf",
                content=b"%PDF-1.4\n%%EOF\n",
            )
        )
        db.session.flush()
        tenant.application.shared_profile.resume_id = db.session.scalar(select(Resume.id))
        db.session.commit()
        return {
            "slug": tenant.agency.slug,
            "job_id": tenant.job.id,
            "job_title": tenant.job.title,
            "contact": tenant.contact.name,
            "first": tenant.application.id,
            "second": second.id,
            "third": third.id,
            "names": {a.id: a.candidate.name for a in (tenant.application, second, third)},
            "tenant": tenant,
        }


@pytest.mark.parametrize("width, height", [(375, 812), (1280, 900)])
def test_client_journey(app, smtp, live_server, browser, artifacts, journey, width, height):
    context = browser.new_context(timezone_id="America/New_York", viewport={"width": width, "height": height})
    page = context.new_page()
    csp_errors = watch_csp(page)
    shot = lambda name: page.screenshot(path=str(artifacts / f"journey-{name}-{width}.png"), full_page=True)  # noqa: E731

    with app.app_context():
        tenant = journey["tenant"]
        email_landing_link(
            db.session.merge(tenant.contact), db.session.merge(tenant.job), db.session.merge(tenant.recruiter)
        )
        db.session.commit()
        deliver_mail()
    (received,) = smtp.inbox.wait_for(1)
    page.goto(link_from_mail(received["message"]))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(journey["job_title"])

    page.get_by_role("link", name="All your jobs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {journey['contact']}")
    assert_accessible(page, "home")
    shot("home")
    page.get_by_role("link", name=journey["job_title"]).click()
    assert_accessible(page, "job page")
    shot("job")

    # Rate 4 stars on the candidate page: saved in place, no reload.
    page.get_by_role("link", name=journey["names"][journey["first"]]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(journey["names"][journey["first"]])
    assert_accessible(page, "candidate page")
    page.evaluate("window.__still_here = true")
    page.get_by_role("radio", name="4 stars").check()
    expect(page.locator(f"#rating-average-{journey['first']}")).to_have_text("Average 4.0 from 1 rating")
    expect(page.get_by_role("radio", name="4 stars")).to_be_checked()
    assert page.evaluate("window.__still_here") is True
    shot("candidate-rated")

    # Request an interview: the browser's zone (New York) is pre-selected; two slots.
    page.get_by_role("link", name="Request interview").click()
    expect(page.get_by_label("Your timezone")).to_have_value("America/New_York")
    assert_accessible(page, "interview form")
    day1, day2 = date.today() + timedelta(days=7), date.today() + timedelta(days=8)
    page.get_by_label("Date of time 1").fill(day1.isoformat())
    page.get_by_label("Start of time 1").fill("10:00")
    page.get_by_role("button", name="Add another time").click()
    page.get_by_label("Date of time 2").fill(day2.isoformat())
    page.get_by_label("Start of time 2").fill("15:30")
    page.get_by_label("Duration of time 2").select_option("45")
    page.get_by_label("Phone call").check()
    page.get_by_role("button", name="Request interview").click()
    expect(page.locator(f"#decision-{journey['first']} .status")).to_have_text("Status: Interview requested")
    expect(page.locator("#toasts")).to_contain_text("Interview requested. Your recruiter will confirm a time.")
    with app.app_context():
        request_row = db.session.scalar(select(InterviewRequest))
        stored = [(s.starts_at.astimezone(UTC), s.ends_at.astimezone(UTC)) for s in request_row.proposed_slots]
        first_start = datetime.combine(day1, time(10), NEW_YORK).astimezone(UTC)
        second_start = datetime.combine(day2, time(15, 30), NEW_YORK).astimezone(UTC)
        assert stored == [
            (first_start, first_start + timedelta(minutes=60)),
            (second_start, second_start + timedelta(minutes=45)),
        ]
        assert (request_row.timezone, request_row.format) == ("America/New_York", "phone")

    # Hire the second candidate, with the confirm step.
    page.goto(f"{live_server.url}/{journey['slug']}/portal/candidates/{journey['second']}")
    page.get_by_role("link", name="Hire").click()
    page.get_by_label("Proposed start date (optional)").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Confirm hire").click()
    expect(page.locator(f"#decision-{journey['second']} .status")).to_have_text("Status: Hire requested")

    # Reject the third from the job page, undo, reject again with a reason.
    page.goto(f"{live_server.url}/{journey['slug']}/portal/jobs/{journey['job_id']}")
    card = page.locator(f"#candidate-{journey['third']}")
    card.get_by_role("button", name="Reject").click()
    expect(card.locator(".status")).to_have_text("Status: Rejected by client")
    wait_for_htmx(page)
    expect(page.locator(f"#job-progress-{journey['job_id']}")).to_contain_text("Rejected1")
    assert_accessible(page, "job page after a reject")
    shot("rejected")
    card.get_by_role("button", name="Undo").click()
    expect(card.locator(".status")).to_have_text("Status: Awaiting your review")
    wait_for_htmx(page)
    with app.app_context():
        assert db.session.scalar(select(Task.status).where(Task.type == "send_feedback")) == "retracted"
    card.get_by_role("button", name="Reject").click()
    expect(card.get_by_role("button", name="Undo")).to_be_visible()
    wait_for_htmx(page)
    card.get_by_label("Reason (optional)").select_option(label="Not enough experience")
    card.get_by_role("button", name="Send reason").click()
    expect(card.get_by_text("your reason was sent")).to_be_visible()
    expect(card.get_by_role("button", name="Undo")).to_have_count(0, timeout=15000)  # gone after 10 s
    with app.app_context():
        third = db.session.get(Application, journey["third"])
        assert (third.client_status, third.reason.label) == ("rejected_by_client", "Not enough experience")
        assert (
            db.session.scalar(select(Task.status).where(Task.type == "send_feedback", Task.status == "open")) == "open"
        )
    page.reload()
    expect(page.locator("details.rejected summary")).to_have_text("Rejected (1)")
    shot("job-after")
    assert csp_errors == []
    context.close()


def test_expired_link_and_sign_in_pages_are_accessible(app, live_server, page, journey):
    with app.app_context():
        tenant = journey["tenant"]
        url = landing_link(db.session.merge(tenant.contact), db.session.merge(tenant.job))
        db.session.scalar(select(LoginToken)).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    assert_accessible(page, "expired link page")
    page.goto(f"{live_server.url}/{journey['slug']}/login")
    assert_accessible(page, "sign-in page")


def test_more_cards_load_when_scrolled_into_view(app, live_server, page, journey):
    from portal.blueprints.client.jobs import CARDS_PER_GROUP
    from portal.models import Job

    with app.app_context():
        job = db.session.get(Job, journey["job_id"])
        for _ in range(CARDS_PER_GROUP + 2):
            make_application(job)
        url = landing_link(db.session.merge(journey["tenant"].contact), job)
        db.session.commit()
    page.goto(url)
    page.get_by_role("button", name="Continue").click()
    cards = page.locator(".candidate-card")
    expect(cards).to_have_count(CARDS_PER_GROUP)
    page.get_by_role("button", name="Show more (5 left)").scroll_into_view_if_needed()
    expect(cards).to_have_count(CARDS_PER_GROUP + 5)
    expect(page.get_by_role("button", name=re.compile("Show more"))).to_have_count(0)
    assert_accessible(page, "job page after loading more cards")
