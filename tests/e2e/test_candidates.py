"""A new recruiter's first candidate in a real browser (issue 14, item 1): "New candidate" on the
jobs list, the form refusing a bad and a known e-mail in place, the candidate page with a note and
a job added from its picker, and the person found by /search once the worker has indexed them;
axe-core on every new page."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Candidate
from search_sync.client import meili_client
from search_sync.sync import drain
from tests.e2e.browser import assert_accessible, wait_for_htmx, watch_csp
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant(app, meili):
    """A tenant with an index of this test's own."""
    previous = app.config["MEILI_INDEX"]
    app.config["MEILI_INDEX"] = f"e2e_{uuid.uuid4().hex[:10]}"
    with app.app_context():
        tenant = make_tenant("cands-e2e")
        tenant.recruiter.timezone = "Europe/London"
        db.session.commit()
        assert not drain()["failed"]
        yield tenant
        meili_client(timeout=5).delete_index(app.config["MEILI_INDEX"])
        db.session.remove()
    app.config["MEILI_INDEX"] = previous


def test_create_a_candidate_from_the_jobs_list_and_find_them(app, live_server, tenant, page, artifacts):
    csp_errors = watch_csp(page)
    known = tenant.application.candidate
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill(tenant.recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")

    page.get_by_role("link", name="New candidate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New candidate")
    assert_accessible(page, "new candidate form")
    page.get_by_label("First name").fill("Zephyrine")
    page.get_by_label("Last name").fill("Quartermaine")
    page.get_by_label("Email").fill("zephyrine@example")
    page.get_by_label("Phone").fill("+49 30 1234")
    page.get_by_label("Headline").fill("Data engineer who ships")
    page.get_by_label("Current title").fill("Senior Data Engineer")
    page.get_by_label("Current company").fill("Globex")
    page.get_by_label("Location").fill("Berlin")
    page.get_by_label("Timezone").select_option("Europe/Berlin")
    page.get_by_label("Tags").fill("python, spark")
    page.get_by_label("Source").fill("Referral")
    page.get_by_role("button", name="Save").click()
    wait_for_htmx(page)
    expect(page.locator("#email-error")).to_contain_text("Enter a valid e-mail address.")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "candidate form with a refusal")

    page.get_by_label("Email").fill(known.primary_email.upper())
    page.get_by_role("button", name="Save").click()
    wait_for_htmx(page)
    expect(page.locator("#email-error")).to_contain_text(f"This e-mail belongs to {known.name}")
    expect(page.get_by_role("link", name="open their page")).to_have_attribute("href", f"/agency/candidates/{known.id}")

    page.get_by_label("Email").fill("Zephyrine@Example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zephyrine Quartermaine")
    expect(page.get_by_text("zephyrine@example.com")).to_be_visible()
    page.get_by_role("textbox", name="Note").fill("Prefers remote work.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("Prefers remote work.")
    expect(page.locator("#notes")).to_contain_text("(Europe/London)")
    page.get_by_label("Job", exact=True).select_option(label=f"{tenant.job.title} — {tenant.job.company.name}")
    page.get_by_role("button", name="Add to the job's pipeline").click()
    expect(page.get_by_role("link", name=tenant.job.title).first).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text(f"Added Zephyrine Quartermaine to {tenant.job.title}")
    expect(page.locator("#timeline")).to_contain_text("Note: Prefers remote work.")
    page.screenshot(path=str(artifacts / "candidate-created.png"), full_page=True)
    assert_accessible(page, "candidate page")

    page.get_by_role("link", name="Edit candidate").click()
    expect(page.get_by_label("Timezone")).to_have_value("Europe/Berlin")
    assert_accessible(page, "edit candidate form")

    with app.app_context():
        person_id = db.session.scalar(select(Candidate.id).where(Candidate.first_name == "Zephyrine"))
        assert not drain()["failed"]  # the worker's pass: the outbox into Meilisearch
    page.goto(f"{live_server.url}/search")
    page.get_by_label("Include active candidates").check()  # they are on an open job now
    wait_for_htmx(page)
    page.get_by_label("Search name, title, skills, tags, resume").press_sequentially("Zephyrine", delay=20)
    rows = page.locator("#search-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-candidate-id", str(person_id))
    assert csp_errors == []
