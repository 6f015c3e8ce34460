"""Recruiter flows in a real browser: share → the client sees it → unshare → gone; bulk share;
a task completion refused in place; the alert badge updating after a client action."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Task
from portal.services.auth import email_landing_link
from portal.worker import deliver_mail
from tests.e2e.browser import assert_accessible, link_from_mail, wait_for_htmx, watch_csp
from tests.factories import PASSWORD, make_application, make_interview_request, make_tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("agency-e2e")
        tenant.recruiter.timezone = "Europe/London"
        db.session.commit()
        yield tenant


def _sign_in_recruiter(page, live_server, tenant, user=None):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill((user or tenant.recruiter).email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")


def _client_page(app, smtp, browser, tenant):
    with app.app_context():
        email_landing_link(tenant.contact, tenant.job, tenant.recruiter)
        db.session.commit()
        deliver_mail()
    (received,) = smtp.inbox.wait_for(1)
    smtp.inbox.clear()
    context = browser.new_context()
    client = context.new_page()
    client.goto(link_from_mail(received["message"]))
    client.get_by_role("button", name="Continue").click()
    expect(client.get_by_role("heading", level=1)).to_have_text(tenant.job.title)
    return client


def test_share_then_client_sees_then_unshare_then_gone(app, smtp, live_server, tenant, page, browser, artifacts):
    csp_errors = watch_csp(page)
    name = tenant.unshared_application.candidate.name
    client = _client_page(app, smtp, browser, tenant)
    assert client.get_by_text(name).count() == 0

    _sign_in_recruiter(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/jobs/{tenant.job.id}")
    assert_accessible(page, "agency job page")
    page.get_by_role("link", name=f"Share {name}").click()
    expect(page.get_by_text("No consent to present this candidate")).to_be_visible()
    assert_accessible(page, "share page")
    page.get_by_role("button", name="Share with the client").click()
    expect(page.locator("#share-error")).to_contain_text("give a reason to share anyway")
    page.get_by_label("Share without recorded consent because").fill("Candidate agreed by phone")
    page.get_by_role("button", name="Share with the client").click()
    expect(page).to_have_url(f"{live_server.url}/agency/jobs/{tenant.job.id}")
    card = page.locator(f"#application-{tenant.unshared_application.id}")
    expect(card.get_by_text("Shared", exact=True)).to_be_visible()

    client.reload()
    expect(client.get_by_role("link", name=name)).to_be_visible()

    card.get_by_role("button", name=f"Unshare {name}").click()
    expect(card.get_by_role("link", name=f"Share {name}")).to_be_visible()
    client.reload()
    expect(client.get_by_role("heading", level=1)).to_have_text(tenant.job.title)
    assert client.get_by_text(name).count() == 0
    page.screenshot(path=str(artifacts / "agency-job-board.png"), full_page=True)
    assert csp_errors == []


def test_bulk_share_from_the_shortlist(app, live_server, tenant, page):
    extra = [make_application(tenant.job, shared=False) for _ in range(2)]
    db.session.commit()
    names = [a.candidate.name for a in extra]
    ids = [a.id for a in extra]
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_recruiter(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/jobs/{tenant.job.id}")
    for name in names:
        page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name="Share selected", exact=True).click()
    expect(page.locator("#bulk-error")).to_contain_text("Nothing was shared.")
    for name in names:
        page.get_by_label(f"Select {name}").check()
    page.get_by_label("Reason to share without recorded consent (if any)").fill("Consent collected at the fair")
    page.get_by_role("button", name="Share selected", exact=True).click()
    expect(page.get_by_text("Shared 2 candidate(s).")).to_be_visible()
    for application_id in ids:
        expect(page.locator(f"#application-{application_id}").get_by_text("Shared", exact=True)).to_be_visible()
    wait_for_htmx(page)

    # A stage move re-renders the board in place (no reload): the card lands in its new column.
    page.get_by_label(f"Stage of {names[0]}").select_option(label="Interview")
    page.get_by_role("button", name=f"Move {names[0]}").click()
    expect(page.get_by_text(f"Moved {names[0]} to Interview.")).to_be_visible()
    interview_column = page.locator("section.board-column").filter(has=page.locator("h3", has_text="Interview"))
    expect(interview_column.get_by_role("link", name=names[0], exact=True)).to_be_visible()
    assert_accessible(page, "agency job page at 375 px")


TASK_PAGE_SLOT = datetime(2031, 3, 10, 14, 0, tzinfo=UTC)  # London on GMT, New York already on EDT


# The live server runs in this process: its clock is moved to a week before the slot, whatever today is.
@pytest.mark.time_machine(TASK_PAGE_SLOT - timedelta(days=7))
def test_task_completion_refusal_is_shown_in_place(app, live_server, tenant, page, artifacts):
    start = TASK_PAGE_SLOT
    # The tenant fixture's app context is active: its rows are used in its own session.
    request = make_interview_request(
        tenant.application, tenant.contact, [(start, start + timedelta(hours=1))], timezone="America/New_York"
    )
    task_id = db.session.scalar(select(Task.id).where(Task.interview_request_id == request.id))
    db.session.commit()
    _sign_in_recruiter(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/tasks")
    page.get_by_role("link", name=f"Organise interview: {tenant.application.candidate.name}").click()
    expect(page).to_have_url(f"{live_server.url}/agency/tasks/{task_id}")
    expect(page.locator("#slots")).to_contain_text("14:00–15:00 (Europe/London)")
    expect(page.locator("#slots")).to_contain_text("10:00–11:00 (America/New_York)")
    assert_accessible(page, "task page")
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path=str(artifacts / "agency-task-375.png"), full_page=True)
    page.get_by_role("button", name="Complete task").click()
    refusal = page.locator("#task-refusal")
    expect(refusal).to_contain_text("This task cannot be completed yet. Missing: a confirmed interview")
    expect(page.get_by_role("heading", name="Status: Open")).to_be_visible()

    # Confirming a proposed time completes the task: the status region refreshes by itself.
    page.locator("#slots").get_by_label("Meeting link").fill("https://meet.example/e2e")
    page.get_by_role("button", name="Confirm this time").click()
    expect(page.locator("#schedule-message")).to_contain_text(
        "Interview confirmed for Mon 10 Mar 2031, 14:00 (Europe/London)"
    )
    expect(page.get_by_role("heading", name="Status: Done")).to_be_visible()
    page.get_by_role("link", name=tenant.application.candidate.name).click()
    expect(page.locator("#looking-for-work")).to_have_text("Yes")
    expect(page.locator(".interviews")).to_contain_text("Mon 10 Mar 2031, 14:00 (Europe/London)")
    expect(page.locator("#timeline")).to_contain_text("Interview scheduled for Mon 10 Mar 2031, 14:00 (Europe/London)")
    assert_accessible(page, "candidate page")
    page.get_by_role("button", name="Sign out").click()
    _sign_in_recruiter(page, live_server, tenant, user=tenant.admin)  # the agency-wide view is the admin's
    page.goto(f"{live_server.url}/agency/tasks/team")
    expect(page.locator("#workload")).to_be_visible()
    assert_accessible(page, "agency-wide tasks")


def test_alert_badge_updates_after_a_client_action(app, smtp, live_server, tenant, page, browser):
    app.config["ALERT_POLL_SECONDS"] = 1
    try:
        client = _client_page(app, smtp, browser, tenant)
        _sign_in_recruiter(page, live_server, tenant)
        badge = page.locator("#alert-badge")
        expect(badge).to_have_text("Unread alerts: 0")
        # The client rejects the shared candidate in their own browser context (C9 → A4).
        client.get_by_role("button", name="Reject").first.click()
        expect(badge).to_have_text("Unread alerts: 1", timeout=15000)
        page.get_by_role("link", name="Alerts").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
        expect(page.locator("#alert-list")).to_contain_text(f"rejected {tenant.application.candidate.name}")
        assert_accessible(page, "alerts page")
        page.get_by_role("button", name="Mark read").click()
        expect(badge).to_have_text("Unread alerts: 0")
        client.context.close()
    finally:
        app.config.pop("ALERT_POLL_SECONDS", None)
