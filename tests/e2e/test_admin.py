"""An admin brands the portal in Chromium: the live preview follows the typing before anything is
saved; saving changes the client sign-in page; every admin page passes axe-core under the CSP."""

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Agency, ProfileTemplate
from tests.e2e.browser import assert_accessible, watch_csp
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("brand-e2e")
        tenant.agency.primary_color, tenant.agency.accent_color = "#1d4ed8", "#b45309"
        db.session.add(ProfileTemplate(agency_id=tenant.agency.id, name="Standard", body="{name}: {headline}"))
        db.session.commit()
        yield tenant


def _sign_in_admin(page, live_server, tenant):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(tenant.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/agency/")


def _preview_button_colour(page) -> str:
    return page.locator("#brand-preview .preview-button").first.evaluate("e => getComputedStyle(e).backgroundColor")


def test_live_preview_follows_typing_and_saving_brands_the_sign_in_page(app, live_server, tenant, page, artifacts):
    csp_errors = watch_csp(page)
    _sign_in_admin(page, live_server, tenant)
    page.goto(f"{live_server.url}/admin/branding")
    assert_accessible(page, "branding page")
    preview = page.locator("#brand-preview")
    expect(preview.get_by_role("heading", name=f"Sign in to {tenant.agency.name}")).to_be_visible()
    assert _preview_button_colour(page) == "rgb(29, 78, 216)"

    page.get_by_label("Portal title").press_sequentially("Harbour Talent")
    expect(preview.get_by_role("heading", name="Sign in to Harbour Talent")).to_be_visible()
    page.get_by_label("Welcome text").fill("Hello **partners**")
    expect(preview.locator("strong")).to_have_text("partners")

    primary = page.get_by_label("Primary colour")
    primary.fill("#0f5132")
    expect(preview).to_have_attribute("data-primary", "#0f5132")
    expect(page.locator("#brand-preview .preview-button").first).to_have_css("background-color", "rgb(15, 81, 50)")

    primary.fill("#777777")
    expect(preview.get_by_text("contrast ratio of 4.48:1")).to_be_visible()
    page.screenshot(path=str(artifacts / "admin-branding-preview.png"), full_page=True)

    with app.app_context():
        stored = db.session.get(Agency, tenant.agency.id)
        assert (stored.portal_title, stored.primary_color) == (None, "#1d4ed8"), "the preview saved something"

    primary.fill("#0f5132")
    expect(preview).to_have_attribute("data-primary", "#0f5132")
    page.get_by_role("button", name="Save branding").click()
    expect(page.get_by_text("Branding saved.")).to_be_visible()
    assert_accessible(page, "branding page after saving")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/{tenant.agency.slug}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Harbour Talent")
    expect(page.locator(".welcome strong")).to_have_text("partners")
    expect(page.get_by_role("button", name="Email me a sign-in link")).to_have_css(
        "background-color", "rgb(15, 81, 50)"
    )
    assert csp_errors == []


def test_admin_pages_are_accessible_and_csp_clean(live_server, tenant, page, artifacts):
    csp_errors = watch_csp(page)
    _sign_in_admin(page, live_server, tenant)
    template_id = db.session.scalar(db.select(ProfileTemplate.id).where(ProfileTemplate.agency_id == tenant.agency.id))
    pages = [
        "/admin/",
        "/admin/users",
        "/admin/companies",
        f"/admin/companies/{tenant.company.id}",
        "/admin/stages",
        "/admin/reasons",
        "/admin/profile-templates",
        f"/admin/profile-templates/{template_id}",
        "/admin/email-templates",
        "/admin/email-templates/invite",
        "/admin/outbox",
    ]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page, path)
    page.set_viewport_size({"width": 375, "height": 800})
    for path, name in [("/admin/branding", "branding"), ("/admin/users", "users")]:
        page.goto(f"{live_server.url}{path}")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 376)
            .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
            .slice(0, 8)""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, f"{path} scrolls sideways: {wide}"
        page.screenshot(path=str(artifacts / f"admin-{name}-375.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/stages")
    page.get_by_role("button", name="Move Sourced down").click()
    expect(page.locator(".stage-list li").first.locator("input[name=name]")).to_have_value("Screening")
    assert_accessible(page, "stages at 375 px after a move")
    assert csp_errors == []
