"""Search as you type in a real browser: results swap without a reload, a ticked facet updates the
URL, and the back button restores the previous results (S5)."""

import uuid

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from search_sync.client import meili_client
from search_sync.sync import drain
from tests.e2e.browser import assert_accessible, watch_csp
from tests.factories import PASSWORD
from tests.search.conftest import build_world

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(app, meili):
    """The filter tests' world, indexed into an index of this test's own."""
    previous = app.config["MEILI_INDEX"]
    app.config["MEILI_INDEX"] = f"e2e_{uuid.uuid4().hex[:10]}"
    with app.app_context():
        world = build_world()
        ids = {key: person.id for key, person in world.people.items()}
        email = world.outsider.email
        tag_result = drain()
        assert not tag_result["failed"]
    yield {"ids": ids, "email": email}
    with app.app_context():
        meili_client(timeout=5).delete_index(app.config["MEILI_INDEX"])
        db.session.remove()
    app.config["MEILI_INDEX"] = previous


def rows(page):
    return page.locator("#search-table tbody tr")


def test_type_tick_and_go_back(live_server, world, page, artifacts):
    csp_errors = watch_csp(page)
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill(world["email"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search candidates")
    expect(rows(page)).to_have_count(4)
    page.evaluate("window.__notReloaded = true")

    page.get_by_label("Search name, title, skills, tags, resume").press_sequentially("kubernet", delay=30)
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-candidate-id", str(world["ids"]["trap"]))
    expect(page).to_have_url(f"{live_server.url}/search?q=kubernet")
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded"

    page.get_by_label("Search name, title, skills, tags, resume").fill("")
    page.get_by_label("Search name, title, skills, tags, resume").press("Backspace")
    expect(rows(page)).to_have_count(4)
    page.get_by_role("checkbox", name="python").check()
    expect(page).to_have_url(f"{live_server.url}/search?tag=python")
    expect(rows(page)).to_have_count(1)

    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/search")
    expect(rows(page)).to_have_count(4)
    expect(page.get_by_role("checkbox", name="python")).not_to_be_checked()
    assert csp_errors == []
    # Screenshots and axe-core run last: they leave empty style attributes on inputs, which a
    # history snapshot would keep and a restore re-apply (a CSP report that is not the app's).
    page.screenshot(path=str(artifacts / "search-after-back.png"), full_page=True)
    assert_accessible(page, "search page")
    page.set_viewport_size({"width": 375, "height": 812})
    assert_accessible(page, "search page at 375 px")
