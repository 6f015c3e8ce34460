"""A client contact follows the emailed link, presses Continue and lands signed in (C1, C2, C2a)."""

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.services.auth import email_landing_link
from portal.worker import answer_sign_in_requests, deliver_mail
from tests.e2e.browser import assert_accessible, link_from_mail, watch_csp
from tests.factories import make_tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("northwind-e2e")
        tenant.agency.welcome_text = "Welcome to the e2e agency."
        db.session.commit()
        yield tenant


def _email_landing_link(app, smtp, tenant) -> str:
    with app.app_context():
        email_landing_link(tenant.contact, tenant.job, tenant.recruiter)
        db.session.commit()
        assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["to"] == [tenant.contact.email]
    return link_from_mail(received["message"])


@pytest.mark.parametrize("width, height", [(375, 812), (1280, 900)])
def test_contact_opens_emailed_link_and_lands_on_the_job(
    app, smtp, live_server, tenant, page, artifacts, width, height
):
    url = _email_landing_link(app, smtp, tenant)
    assert url.startswith(live_server.url), url
    page.set_viewport_size({"width": width, "height": height})
    csp_errors = watch_csp(page)

    page.goto(url)
    continue_button = page.get_by_role("button", name="Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Continue to {tenant.job.title}")
    assert_accessible(page, "continue page")
    continue_button.click()

    expect(page).to_have_url(f"{live_server.url}/{tenant.agency.slug}/portal/jobs/{tenant.job.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(tenant.job.title)
    shared_name = tenant.application.candidate.name
    expect(page.get_by_role("link", name=shared_name)).to_be_visible()
    assert page.get_by_text(tenant.unshared_application.candidate.name).count() == 0
    assert_accessible(page, "job page")
    page.screenshot(path=str(artifacts / f"client-job-page-{width}.png"), full_page=True)

    page.get_by_role("link", name="Your jobs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {tenant.contact.name}")
    assert_accessible(page, "client home")
    assert csp_errors == []


def test_sign_in_page_requests_a_link_and_the_link_works_once(app, smtp, live_server, tenant, page, artifacts):
    csp_errors = watch_csp(page)
    page.goto(f"{live_server.url}/{tenant.agency.slug}/login")
    expect(page.get_by_text("Welcome to the e2e agency.")).to_be_visible()
    assert_accessible(page, "sign-in page")

    page.get_by_label("Work email").fill("not-an-email")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    assert_accessible(page, "sign-in page with an error")

    page.get_by_label("Work email").fill(tenant.contact.email.upper())
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.screenshot(path=str(artifacts / "client-check-email.png"))

    with app.app_context():
        assert answer_sign_in_requests() == 1
        assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    url = link_from_mail(received["message"])

    page.goto(url)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {tenant.contact.name}")
    expect(page.get_by_role("link", name=tenant.job.title)).to_be_visible()

    page.goto(url)  # a used sign-in link says so at once: there is nothing left to continue to
    expect(page.get_by_role("heading", level=1)).to_have_text("This link was already used")
    expect(page.get_by_role("button", name="Email me a fresh link")).to_be_visible()
    assert_accessible(page, "used-link page")
    page.screenshot(path=str(artifacts / "client-link-used.png"))
    assert csp_errors == []
