"""The recruiter's task in a real browser (issue 13 item 3): the client's notes under "Client's
notes", the client's comment beside the task, a reply posted in place with htmx, and the client
reading that reply on the candidate's page."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Task
from portal.services import client_actions
from portal.services.auth import email_landing_link
from portal.worker import deliver_mail
from tests.e2e.browser import assert_accessible, link_from_mail, watch_csp
from tests.factories import PASSWORD, make_interview_request, make_tenant

pytestmark = pytest.mark.e2e

SLOT = datetime(2031, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("thread-e2e")
        tenant.recruiter.timezone = "Europe/London"
        db.session.commit()
        yield tenant


def test_the_recruiter_reads_the_clients_words_on_the_task_and_answers_in_place(
    app, smtp, live_server, tenant, page, browser
):
    csp_errors = watch_csp(page)
    request = make_interview_request(
        tenant.application, tenant.contact, [(SLOT, SLOT + timedelta(hours=1))], timezone="America/New_York"
    )
    request.notes = "Please ask about the Rust migration."
    client_actions.add_comment(tenant.contact, tenant.application, "Can she start in May?")
    task_id = db.session.scalar(select(Task.id).where(Task.interview_request_id == request.id))
    db.session.commit()

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill(tenant.recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    page.goto(f"{live_server.url}/agency/tasks/{task_id}")
    notes = page.get_by_role("region", name="Client's notes")
    expect(notes).to_contain_text("Please ask about the Rust migration.")
    thread = page.locator(f"#client-comments-{tenant.application.id}")
    expect(thread).to_contain_text("Can she start in May?")
    assert_accessible(page, "task page with the client's notes and thread")

    thread.get_by_label("Reply to the client").fill("Yes: her notice is four weeks.")
    thread.get_by_role("button", name="Reply to the client").click()
    expect(page.locator(f"#client-comments-{tenant.application.id}")).to_contain_text("Yes: her notice is four weeks.")
    expect(thread.get_by_role("status")).to_contain_text("Reply posted.")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)  # swapped in place, not a page in a page
    assert csp_errors == []

    with app.app_context():
        email_landing_link(tenant.contact, tenant.job, tenant.recruiter)
        db.session.commit()
        deliver_mail()
    # The owner's alert of the comment, the contact's notice of the reply, and the landing link.
    to_contact = [m["message"] for m in smtp.inbox.wait_for(3) if m["to"] == [tenant.contact.email]]
    (notice,) = [m for m in to_contact if "replied about" in m["Subject"]]
    (landing,) = [m for m in to_contact if m is not notice]
    client = browser.new_context().new_page()
    client.goto(link_from_mail(landing))
    client.get_by_role("button", name="Continue").click()
    client.goto(f"{live_server.url}/{tenant.agency.slug}/portal/candidates/{tenant.application.id}")
    expect(client.locator(f"#comments-{tenant.application.id}")).to_contain_text("Yes: her notice is four weeks.")
    expect(client.locator(f"#comments-{tenant.application.id}")).to_contain_text(f"({tenant.agency.name})")
