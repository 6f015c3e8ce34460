"""Consent and zones in Chromium: a recruiter asks for consent from the candidate page, the
candidate confirms from the e-mailed link (read from the real SMTP server), the share form then
shows the consent; a contact's first action keeps their browser's zone; /account and the client
settings page pass axe-core."""

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.services.auth import email_landing_link
from portal.worker import deliver_mail
from tests.e2e.browser import assert_accessible, link_from_mail, sign_in, wait_for_htmx, watch_csp
from tests.factories import make_tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("consent-e2e")
        tenant.recruiter.timezone = "Europe/London"
        tenant.company.name = "Orbital Widgets"
        candidate = tenant.unshared_application.candidate
        candidate.first_name, candidate.last_name, candidate.timezone = "Maya", "Okafor", "Africa/Lagos"
        db.session.commit()
        yield tenant


def test_ask_for_consent_then_the_candidate_confirms_from_the_email(app, smtp, live_server, tenant, page, browser):
    csp_errors = watch_csp(page)
    sign_in(page, live_server.url, tenant.recruiter.email)
    page.goto(f"{live_server.url}/agency/candidates/{tenant.unshared_application.candidate_id}")
    expect(page.get_by_role("heading", name="Consent to be presented")).to_be_visible()
    assert_accessible(page, "candidate page with consent")
    ask = page.locator("#ask-consent-form")
    ask.get_by_role("button", name="Ask the candidate").click()
    expect(ask.get_by_text("Choose one of your clients.")).to_be_visible()  # refused in place
    wait_for_htmx(page)
    page.locator("#ask-consent-form").get_by_label("Client").select_option(label="Orbital Widgets")
    page.locator("#ask-consent-form").get_by_role("button", name="Ask the candidate").click()
    expect(page.locator("#consent-history")).to_contain_text("Orbital Widgets: asked by e-mail")
    expect(page.locator("#timeline")).to_contain_text("Asked Maya Okafor by e-mail for consent")

    with app.app_context():
        assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["message"]["Reply-To"] == tenant.recruiter.email
    link = link_from_mail(received["message"])
    assert re.search(r"/consent-e2e/consent/\S+$", link)

    candidate = browser.new_context(timezone_id="Africa/Lagos").new_page()
    candidate_csp = watch_csp(candidate)
    candidate.goto(link)
    expect(candidate.get_by_role("heading", level=1)).to_have_text("May we present you to Orbital Widgets?")
    expect(candidate.locator("#consent-current")).to_contain_text("You have not answered yet.")
    assert_accessible(candidate, "consent request page")
    candidate.get_by_role("button", name="Yes, present me to Orbital Widgets").click()
    expect(candidate.locator("#consent-answered")).to_contain_text("you agreed to be presented to Orbital Widgets")
    expect(candidate.locator("#consent-current")).to_contain_text("(Africa/Lagos)")
    assert_accessible(candidate, "consent answered page")

    page.goto(f"{live_server.url}/agency/applications/{tenant.unshared_application.id}/share")
    expect(page.locator("#consent-guard")).to_contain_text("Consent given")
    expect(page.locator("#consent-guard")).to_contain_text("(Europe/London)")
    assert_accessible(page, "share page with consent")
    assert csp_errors == [] and candidate_csp == []


def test_account_page_sets_timezone_and_alerts(live_server, tenant, page):
    csp_errors = watch_csp(page)
    sign_in(page, live_server.url, tenant.recruiter.email)
    page.get_by_role("link", name="Your account").click()
    assert_accessible(page, "account page")
    page.get_by_label("Timezone").select_option("Asia/Kolkata")
    page.get_by_label("Alert e-mails").select_option("digest")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_label("Timezone")).to_have_value("Asia/Kolkata")
    expect(page.get_by_label("Alert e-mails")).to_have_value("digest")
    assert csp_errors == []


def test_a_contacts_first_action_keeps_their_browsers_zone(app, smtp, live_server, tenant, browser):
    with app.app_context():
        email_landing_link(tenant.contact, tenant.job, tenant.recruiter)
        db.session.commit()
        deliver_mail()
    (received,) = smtp.inbox.wait_for(1)
    page = browser.new_context(timezone_id="America/Chicago").new_page()
    csp_errors = watch_csp(page)
    page.goto(link_from_mail(received["message"]))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Your settings").click()
    expect(page.locator("#zone-now")).to_contain_text("You have not chosen a timezone yet")
    assert_accessible(page, "client settings page")

    page.goto(f"{live_server.url}/consent-e2e/portal/candidates/{tenant.application.id}")
    page.get_by_role("radio", name="4 stars").check()
    expect(page.get_by_role("radio", name="4 stars")).to_be_checked()
    wait_for_htmx(page)
    page.get_by_role("link", name="Your settings").click()
    expect(page.locator("#zone-now")).to_contain_text("America/Chicago, the zone your browser reported")

    page.get_by_label("Timezone").select_option("Europe/Madrid")
    page.get_by_role("button", name="Save", exact=True).click()  # not "Save reminder choice"
    expect(page.locator("#zone-now")).to_contain_text("Times are shown in Europe/Madrid")
    assert_accessible(page, "client settings page after saving")
    assert csp_errors == []
