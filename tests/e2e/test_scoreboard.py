"""The scoreboard in Chromium (issue 15 item 4): reached from the navigation, filtered through its
form (an error in place), its SVG charts drawn without a CSP violation, and axe-core clean."""

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests.e2e.browser import assert_accessible, sign_in, watch_csp
from tests.factories import make_tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = make_tenant("scoreboard-e2e")
        yield tenant
        db.session.remove()


def test_the_scoreboard_from_the_navigation(live_server, tenant, page):
    csp_errors = watch_csp(page)
    sign_in(page, live_server.url, tenant.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scoreboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scoreboard")
    expect(page.get_by_role("img", name="Share to interview, interview to offer")).to_be_visible()
    assert_accessible(page, "the scoreboard")
    page.get_by_label("To", exact=True).fill("2020-01-01")
    page.get_by_label("From", exact=True).fill("2020-02-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#from-error")).to_have_text("The start of the period must not be after its end.")
    assert_accessible(page, "the scoreboard with an error")
    assert csp_errors == []
