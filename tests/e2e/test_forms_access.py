"""Issue 13, items 5 and 6 in Chromium: the interview form by keyboard (Enter never adds a row,
rows are removable, empty ones ignored, focus on the first invalid field), Undo focused after a
keyboard reject with its countdown (on Playwright's clock, not the wall clock), the live region,
the job page's filter, stage links and rejected pile, previous / next candidate, "Check your
email", and HTML e-mails at 375 px. axe-core on every page changed."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import InterviewRequest, MailOutbox
from portal.services.auth import landing_link
from portal.services.mail import send_mail
from portal.services.sharing import send_online
from tests.e2e.browser import assert_accessible, wait_for_htmx, watch_csp
from tests.factories import make_application, make_tenant

pytestmark = pytest.mark.e2e
# The page's own clock (Playwright's), so the countdown is read at exact seconds.
PAGE_CLOCK = datetime(2031, 5, 14, 9, 30, tzinfo=UTC)
LONG_URL = "https://portal.example/a/" + "unbroken" * 40


@pytest.fixture
def site(app):
    with app.app_context():
        tenant = make_tenant("formse2e")
        second = make_application(tenant.job)
        third = make_application(tenant.job)
        later = make_application(tenant.job, stage_id=tenant.agency.stages[3].id)
        asked = make_application(tenant.job)
        asked.client_status = "interview_requested"
        db.session.commit()
        return {
            "tenant": tenant,
            "slug": tenant.agency.slug,
            "job_id": tenant.job.id,
            "job_title": tenant.job.title,
            "first": tenant.application.id,
            "second": second.id,
            "third": third.id,
            "later": later.id,
            "asked": asked.id,
            "asked_name": asked.candidate.name,
            "stage_name": tenant.agency.stages[2].name,
            "later_stage": tenant.agency.stages[3].name,
        }


def sign_in(app, page, site) -> None:
    with app.app_context():
        tenant = site["tenant"]
        url = landing_link(db.session.merge(tenant.contact), db.session.merge(tenant.job))
        db.session.commit()
    page.goto(url)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(site["job_title"])


def until(page, script: str) -> None:
    """Readiness polling from this side (the page's own timers may be paused): wait until
    ``script`` is true in the page, at most 10 s of waiting."""
    for _ in range(200):
        if page.evaluate(script):
            return
        time.sleep(0.05)
    raise AssertionError(f"never true in the page: {script}")


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_interview_form_by_keyboard(app, live_server, browser, site, artifacts):
    context = browser.new_context(viewport={"width": 375, "height": 812}, timezone_id="Europe/London")
    page = context.new_page()
    csp_errors = watch_csp(page)
    sign_in(app, page, site)
    page.goto(f"{live_server.url}/{site['slug']}/portal/candidates/{site['first']}/interview")
    day = date.today() + timedelta(days=30)

    # Enter in the date field submits the form (its default button is "Request interview"): no
    # new row; the refusal puts focus on the first invalid field.
    page.get_by_label("Date of time 1").fill(day.isoformat())
    page.get_by_label("Date of time 1").press("Enter")
    expect(page.locator("#slots-0-start")).to_have_attribute("aria-invalid", "true")
    wait_for_htmx(page)
    expect(page.locator(".slot")).to_have_count(1)
    expect(page.locator("#slots-0-start")).to_be_focused()
    assert_accessible(page, "interview form with an error")

    # "Add another time" moves focus into the new row; "Remove time 2" takes it away again.
    page.get_by_label("Start of time 1").fill("10:00")
    page.get_by_role("button", name="Add another time").click()
    expect(page.locator(".slot")).to_have_count(2)
    wait_for_htmx(page)
    expect(page.locator("#slots-1-day")).to_be_focused()
    page.get_by_role("button", name="Remove time 2").click()
    expect(page.locator(".slot")).to_have_count(1)
    wait_for_htmx(page)
    expect(page.locator("#slots-0-day")).to_be_focused()
    expect(page.get_by_label("Date of time 1")).to_have_value(day.isoformat())

    # An empty extra row does not block the request: it is ignored.
    page.get_by_role("button", name="Add another time").click()
    expect(page.locator(".slot")).to_have_count(2)
    wait_for_htmx(page)
    assert_accessible(page, "interview form with two rows")
    page.screenshot(path=str(artifacts / "interview-form-rows-375.png"), full_page=True)
    page.get_by_role("button", name="Request interview").click()
    expect(page.locator(f"#decision-{site['first']} .status")).to_have_text("Status: Interview requested")
    expect(page.locator("#toasts .toast")).to_have_count(1)
    with app.app_context():
        assert len(db.session.scalar(select(InterviewRequest)).proposed_slots) == 1
    assert csp_errors == []
    context.close()


def test_reject_by_keyboard_focuses_undo_with_a_countdown(app, live_server, browser, site, artifacts):
    # The page's clock is paused and moved by hand, so every check reads the page as it is now
    # (plain evaluations: Playwright's retrying assertions wait on page timers, paused here).
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    csp_errors = watch_csp(page)
    page.clock.install(time=PAGE_CLOCK)
    sign_in(app, page, site)
    page.clock.pause_at(PAGE_CLOCK + timedelta(minutes=5))
    third = site["third"]
    card = page.locator(f"#candidate-{third}")
    assert card.count() == 1
    now = lambda script: page.evaluate(script)  # noqa: E731
    countdown = f"document.getElementById('undo-countdown-{third}')"

    card.get_by_role("button", name="Reject").focus()
    page.keyboard.press("Enter")
    until(page, f"!!document.getElementById('undo-{third}')")
    page.clock.run_for(500)  # htmx settles, the live region is filled
    assert focused_id(page) == f"undo-{third}"
    assert "rejected. Undo is available for 10 seconds." in now("document.getElementById('announcer').textContent")
    assert now(f"{countdown}.textContent") == "10 seconds left to undo"
    page.clock.run_for(3000)
    assert now(f"{countdown}.textContent") == "7 seconds left to undo"

    page.keyboard.press("Enter")  # Undo, still focused
    until(page, f"!!document.getElementById('reject-{third}')")
    page.clock.run_for(500)
    assert focused_id(page) == f"reject-{third}"
    assert "Reject undone" in now("document.getElementById('announcer').textContent")

    page.keyboard.press("Enter")  # reject again, then let the Undo run out
    until(page, f"!!document.getElementById('undo-{third}')")
    page.clock.run_for(500)
    assert focused_id(page) == f"undo-{third}"
    page.clock.run_for(10_000)
    assert now(f"document.getElementById('undo-{third}')") is None
    # Focus is not dropped to the top of the page with the control that held it.
    assert now(f"document.getElementById('decision-{third}').contains(document.activeElement)")

    # axe-core and screenshots run on the page's timers: with the clock running again, reject the
    # first candidate and check the page while its Undo counts down.
    page.clock.resume()
    page.locator(f"#candidate-{site['first']}").get_by_role("button", name="Reject").click()
    expect(page.locator(f"#undo-countdown-{site['first']}")).to_contain_text("left to undo")
    assert_accessible(page, "job page with the Undo countdown")
    page.screenshot(path=str(artifacts / "undo-countdown-375.png"), full_page=True)
    assert csp_errors == []
    context.close()


def test_rating_keeps_focus_and_announces_the_average(app, live_server, page, site):
    sign_in(app, page, site)
    page.goto(f"{live_server.url}/{site['slug']}/portal/candidates/{site['first']}")
    page.get_by_role("radio", name="3 stars").check()
    expect(page.locator(f"#rating-average-{site['first']}")).to_have_text("Average 3.0 from 1 rating")
    wait_for_htmx(page)
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#rating-average-{site['first']}")).to_have_text("Average 4.0 from 1 rating")
    wait_for_htmx(page)
    assert focused_id(page) == f"rating-{site['first']}-4"
    expect(page.locator("#announcer")).to_have_text("Average 4.0 from 1 rating")


def test_job_page_filter_stage_links_rejected_pile_and_neighbours(app, live_server, browser, site, artifacts):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    csp_errors = watch_csp(page)
    sign_in(app, page, site)
    job_url = f"{live_server.url}/{site['slug']}/portal/jobs/{site['job_id']}"

    # Reject one so the pile exists.
    page.locator(f"#candidate-{site['second']}").get_by_role("button", name="Reject").click()
    expect(page.locator(f"#candidate-{site['second']} .status")).to_have_text("Status: Rejected by client")
    page.goto(job_url)
    nav = page.get_by_role("navigation", name="Candidates")
    expect(nav.get_by_role("link", name=f"{site['later_stage']} (1)")).to_be_visible()
    assert_accessible(page, "job page with stage links")
    page.screenshot(path=str(artifacts / "job-nav-375.png"), full_page=True)

    pile = page.locator("details.rejected")
    expect(pile.locator("summary")).to_have_text("Rejected (1)")
    assert pile.evaluate("el => !el.open")
    nav.get_by_role("link", name="Rejected (1)").click()
    expect(page).to_have_url(f"{job_url}#rejected")
    pile.locator("summary").click()
    assert pile.evaluate("el => el.open")
    expect(pile.locator(f"#candidate-{site['second']}")).to_be_visible()

    nav.get_by_role("link", name="Awaiting your review (3)").click()
    expect(page.locator(".candidate-card")).to_have_count(3)
    expect(page.get_by_text(site["asked_name"])).to_have_count(0)
    expect(page.locator("details.rejected")).to_have_count(0)
    assert_accessible(page, "job page filtered to awaiting review")

    page.goto(f"{live_server.url}/{site['slug']}/portal/candidates/{site['first']}")
    others = page.get_by_role("navigation", name="Other candidates")
    expect(others.get_by_role("link", name="Previous candidate")).to_have_count(0)
    assert_accessible(page, "candidate page with previous / next")
    others.get_by_role("link", name="Next candidate").click()
    expect(page).to_have_url(f"{live_server.url}/{site['slug']}/portal/candidates/{site['third']}")
    assert csp_errors == []
    context.close()


def test_check_your_email_replaces_the_form(app, live_server, page, site):
    csp_errors = watch_csp(page)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/{site['slug']}/login")
    page.get_by_label("Email").fill("someone@client.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("form#client-login-form")).to_have_count(0)
    wait_for_htmx(page)
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    assert_accessible(page, "check your email")
    assert csp_errors == []


def test_html_mails_fit_a_375_px_phone(app, browser, site, smtp):
    with app.app_context():
        tenant = site["tenant"]
        agency = db.session.merge(tenant.agency)
        send_mail(
            agency,
            "test.long_url",
            "someone@client.example",
            "A long address",
            "agency_notice",
            greeting="Ann",
            paragraphs=[f"Paste {LONG_URL} into your browser."],
            items=["Candidate A-1"],
            url=LONG_URL,
            label="Open",
        )
        contact = db.session.merge(tenant.contact)
        send_online(db.session.merge(tenant.job), [contact.id], db.session.merge(tenant.recruiter))
        db.session.commit()
        bodies = list(db.session.scalars(select(MailOutbox.html_body)))
    assert len(bodies) == 2
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    for body in bodies:
        page.set_content(body)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the mail is {width} px wide at 375 px"
        assert page.evaluate("document.body.scrollWidth") <= 375
    context.close()
