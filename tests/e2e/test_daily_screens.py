"""Issue 14 item 6 in Chromium at 1440 px: on a long shortlist the arrow keys in a stage list move
nobody until "Move" is pressed, the page keeps its scroll position through the move, the bulk
actions stay in view; the share form folds with the preview beside it; the search page saves a
search and re-runs it. axe-core on the board, the share form and the search page."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import StageHistory
from search_sync.client import meili_client
from search_sync.sync import drain
from tests.e2e.browser import assert_accessible, wait_for_htmx, watch_csp
from tests.factories import PASSWORD, make_application, make_tenant

pytestmark = pytest.mark.e2e

WIDE = {"width": 1440, "height": 900}
LONG_LIST = 24  # cards in the first column: the board runs far below the fold


@pytest.fixture
def tenant(app, meili):
    """A tenant with a long shortlist, indexed into a search index of this test's own."""
    previous = app.config["MEILI_INDEX"]
    app.config["MEILI_INDEX"] = f"e2e_{uuid.uuid4().hex[:10]}"
    with app.app_context():
        tenant = make_tenant("daily-e2e")
        tenant.recruiter.timezone = "Europe/London"
        screening = tenant.agency.stages[0]
        tenant.many = [make_application(tenant.job, shared=False, stage_id=screening.id) for _ in range(LONG_LIST)]
        db.session.commit()
        assert not drain()["failed"]
        yield tenant
        meili_client(timeout=5).delete_index(app.config["MEILI_INDEX"])
        db.session.remove()
    app.config["MEILI_INDEX"] = previous


def _sign_in(page, live_server, tenant):
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill(tenant.recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")


def _moves() -> int:
    return db.session.scalar(select(func.count()).select_from(StageHistory)) or 0


def test_arrow_keys_move_nobody_until_move_and_the_page_keeps_its_place(live_server, tenant, page, artifacts):
    csp_errors = watch_csp(page)
    _sign_in(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/jobs/{tenant.job.id}")
    wait_for_htmx(page)
    assert_accessible(page, "job board at 1440 px")

    low = tenant.many[LONG_LIST // 2]  # far down, with enough board below that the page cannot get too short
    name = low.candidate.name
    stage_list = page.get_by_label(f"Stage of {name}")
    stage_list.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    before = page.evaluate("window.scrollY")
    assert before > 1000, "the card should sit far down a long board"

    stage_list.focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(stage_list).not_to_have_value(str(low.stage_id))  # the list moved three places...
    page.wait_for_timeout(300)  # (a request the change event fired would be on its way by now)
    db.session.expire_all()
    assert _moves() == 0  # ...and nobody moved
    chosen = stage_list.evaluate("el => el.options[el.selectedIndex].text")

    # The bulk actions are in view here, far down the board, without scrolling back up.
    expect(page.get_by_role("button", name="Share selected", exact=True)).to_be_in_viewport()
    page.get_by_label(f"Select {name}").check()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    before = page.evaluate("window.scrollY")  # (ticking scrolled the box out from under the bar)

    page.get_by_role("button", name=f"Move {name}").click()
    expect(page.locator("#board-message")).to_have_text(f"Moved {name} to {chosen}.")
    wait_for_htmx(page)
    db.session.expire_all()
    assert _moves() == 1
    assert abs(page.evaluate("window.scrollY") - before) < 5, "the move scrolled the page"
    column = page.locator("section.board-column").filter(has=page.locator("h3", has_text=chosen))
    expect(column.get_by_role("link", name=name, exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "daily-board-1440.png"))
    assert csp_errors == []


def test_closed_applications_fold_apart_and_cards_show_the_client_status(live_server, tenant, page):
    tenant.many[0].outcome = "withdrawn"
    db.session.commit()
    _sign_in(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/jobs/{tenant.job.id}")
    closed = page.locator("#closed-applications")
    name = tenant.many[0].candidate.name
    expect(closed.get_by_role("link", name=name, exact=True)).to_be_hidden()
    closed.locator("summary").click()
    expect(closed.get_by_role("link", name=name, exact=True)).to_be_visible()
    card = page.locator(f"#application-{tenant.application.id}")
    expect(card.get_by_text("Client: awaiting review")).to_be_visible()
    assert_accessible(page, "job board with the closed pile open")


def test_share_form_folds_with_the_preview_beside_it(live_server, tenant, page, artifacts):
    _sign_in(page, live_server, tenant)
    page.goto(f"{live_server.url}/agency/applications/{tenant.unshared_application.id}/share")
    expect(page.locator("#fold-guards")).to_have_attribute("open", "")
    profile = page.locator("#fold-profile")
    expect(profile.get_by_label("Label 1", exact=True)).to_be_hidden()
    form_box = page.locator(".share-main").bounding_box()
    preview_box = page.locator("#share-preview").bounding_box()
    assert preview_box["x"] >= form_box["x"] + form_box["width"], "the preview should sit beside the form"
    assert preview_box["y"] < form_box["y"] + 200
    assert_accessible(page, "share form at 1440 px")

    # An opened fold stays open when "Update the preview" re-renders the form in place.
    profile.locator("summary").click()
    profile.get_by_label("Value 1", exact=True).fill("Ships widgets on time.")
    page.get_by_role("button", name="Update the preview").click()
    expect(page.locator("#share-preview")).to_contain_text("Ships widgets on time.")
    wait_for_htmx(page)
    expect(page.locator("#fold-profile")).to_have_attribute("open", "")
    page.screenshot(path=str(artifacts / "daily-share-1440.png"))


def test_search_names_link_pickers_name_clients_and_a_saved_search_reruns(live_server, tenant, page):
    shared = tenant.application.candidate
    _sign_in(page, live_server, tenant)
    page.goto(f"{live_server.url}/search?include_active=1")
    link = page.locator("#search-table").get_by_role("link", name=shared.name, exact=True)
    expect(link).to_have_attribute("href", f"/agency/candidates/{shared.id}")
    picker = page.get_by_label("Job to add the selected candidates to")
    expect(picker.locator("option", has_text=f"{tenant.job.title} \u2014 {tenant.company.name}")).to_have_count(1)
    assert_accessible(page, "search page at 1440 px")

    page.get_by_label("Search name, title, skills, tags, resume").press_sequentially(shared.first_name, delay=30)
    expect(page).to_have_url(f"{live_server.url}/search?q={shared.first_name}&include_active=1")
    page.get_by_label("Name this search").fill("First names")
    page.get_by_role("button", name="Save this search").click()
    saved = page.locator("#saved-searches").get_by_role("link", name="First names")
    expect(saved).to_be_visible()
    page.goto(f"{live_server.url}/search")
    page.locator("#saved-searches").get_by_role("link", name="First names").click()
    expect(page.get_by_label("Search name, title, skills, tags, resume")).to_have_value(shared.first_name)
    expect(page.locator("#search-table").get_by_role("link", name=shared.name, exact=True)).to_be_visible()
    assert_accessible(page, "search page with a saved search")
