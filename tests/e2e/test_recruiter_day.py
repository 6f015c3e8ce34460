"""Issue 14's "Done when", driven as a new recruiter in one Chromium session: create a candidate
from "New candidate" on the jobs list, upload a real PDF and a DOCX and add a video link on their
page, put them on a job, ask for consent and have the candidate confirm it from the e-mailed link
(read from the real SMTP server), share the PDF to the job; the client contact opens it inline and
downloads a file that ``file`` calls a PDF; ``/search`` finds a word that is only inside the PDF
(search indexes a candidate's newest resume: the PDF is uploaded last; test_candidate_files finds
a word only inside a DOCX).

Each step has its own test (test_candidates, test_candidate_files, test_consent_and_zones) with the
axe-core checks of each page; this one adds the candidate page holding files, an application and a
confirmed consent at once, a state none of them reaches."""

import re
import subprocess
import uuid

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.services.auth import landing_link
from portal.worker import deliver_mail
from search_sync.client import meili_client
from search_sync.sync import drain
from tests.documents import make_docx, make_pdf
from tests.e2e.browser import (
    assert_accessible,
    link_from_mail,
    shows_a_white_page,
    sign_in,
    wait_for_htmx,
    watch_csp,
)
from tests.factories import make_tenant
from tests.servers import wait_until

pytestmark = pytest.mark.e2e
PDF_WORD, DOCX_WORD = "Wombatcartographer", "Axolotlwrangler"  # each only inside its file
NAME, EMAIL = "Ottoline Fairweather", "ottoline.fairweather@example.com"


@pytest.fixture
def day(app, meili):
    """A new recruiter's agency with one job at "Orbital Widgets" and its contact's sign-in link,
    in a search index of this test's own."""
    previous = app.config["MEILI_INDEX"]
    app.config["MEILI_INDEX"] = f"e2e_{uuid.uuid4().hex[:10]}"
    with app.app_context():
        tenant = make_tenant("day-e2e")
        tenant.recruiter.timezone = "Europe/London"
        tenant.company.name = "Orbital Widgets"
        landing = landing_link(tenant.contact, tenant.job)
        db.session.commit()
        assert not drain()["failed"]
        yield {
            "recruiter": tenant.recruiter.email,
            "job": tenant.job.title,
            "slug": tenant.agency.slug,
            "landing": landing,
        }
        meili_client(timeout=5).delete_index(app.config["MEILI_INDEX"])
        db.session.remove()
    app.config["MEILI_INDEX"] = previous


def test_a_recruiters_day_from_new_candidate_to_the_clients_pdf(
    app, smtp, live_server, browser, day, tmp_path, artifacts
):
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    csp_errors = watch_csp(page)
    sign_in(page, live_server.url, day["recruiter"])

    # A new candidate from the jobs list.
    page.get_by_role("link", name="New candidate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New candidate")
    page.get_by_label("First name").fill("Ottoline")
    page.get_by_label("Last name").fill("Fairweather")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Current title").fill("Platform Engineer")
    page.get_by_label("Timezone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.get_by_text(EMAIL)).to_be_visible()

    # A DOCX and then a PDF resume (the newest, whose text search indexes), and a video link.
    page.get_by_label("Resume", exact=True).set_input_files(
        {"name": "cv.docx", "mimeType": "application/octet-stream", "buffer": make_docx(f"Certified {DOCX_WORD}")}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#candidate-files").get_by_role("status")).to_have_text("Resume uploaded.")
    expect(page.locator("#resume-list")).to_contain_text("cv.docx · Word")
    wait_for_htmx(page)
    page.get_by_label("Resume", exact=True).set_input_files(
        {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": make_pdf(NAME, f"Lead {PDF_WORD} at Globex")}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#resume-list li")).to_have_count(2)
    expect(page.locator("#resume-list li").first).to_contain_text("cv.pdf · PDF")  # newest first
    wait_for_htmx(page)
    page.get_by_label("Video resume link").fill("https://video.example/ottoline")
    page.get_by_label("Title (optional)").fill("Ottoline in two minutes")
    page.get_by_role("button", name="Add video link").click()
    expect(page.get_by_role("link", name="Ottoline in two minutes")).to_have_attribute(
        "href", "https://video.example/ottoline"
    )
    wait_for_htmx(page)

    # On the job's pipeline, then consent asked for by e-mail.
    page.get_by_label("Job", exact=True).select_option(label=f"{day['job']} — Orbital Widgets")
    page.get_by_role("button", name="Add to the job's pipeline").click()
    expect(page.locator("#timeline")).to_contain_text(f"Added {NAME} to {day['job']}")
    wait_for_htmx(page)
    page.locator("#ask-consent-form").get_by_label("Client").select_option(label="Orbital Widgets")
    page.locator("#ask-consent-form").get_by_role("button", name="Ask the candidate").click()
    expect(page.locator("#consent-history")).to_contain_text("Orbital Widgets: asked by e-mail")

    with app.app_context():
        assert deliver_mail() == 1
    (received,) = smtp.inbox.wait_for(1)
    assert EMAIL in received["message"]["To"]
    candidate = browser.new_context(timezone_id="Europe/Berlin").new_page()
    candidate_csp = watch_csp(candidate)
    candidate.goto(link_from_mail(received["message"]))
    expect(candidate.get_by_role("heading", level=1)).to_have_text("May we present you to Orbital Widgets?")
    candidate.get_by_role("button", name="Yes, present me to Orbital Widgets").click()
    expect(candidate.locator("#consent-answered")).to_contain_text("you agreed to be presented to Orbital Widgets")
    candidate.context.close()

    page.reload()
    expect(page.locator("#consent-history")).to_contain_text("Orbital Widgets: agreed")
    expect(page.locator("#consent-history")).to_contain_text("(Europe/London)")
    expect(page.locator("#resume-list li")).to_have_count(2)
    page.screenshot(path=str(artifacts / "recruiter-day-candidate.png"), full_page=True)
    assert_accessible(page, "candidate page with files, an application and consent")

    # Share the PDF and the video from the job's board.
    page.get_by_role("link", name=day["job"]).first.click()
    page.get_by_role("link", name=f"Share {NAME}").click()
    expect(page.locator("#consent-guard")).to_contain_text("Consent given")
    application_id = int(re.search(r"/applications/(\d+)/share", page.url).group(1))
    resume = page.get_by_label("Resume file")
    resume.select_option(resume.locator("option", has_text="cv.pdf").get_attribute("value"))
    page.get_by_label("Video resume").select_option(label="Ottoline in two minutes")
    page.get_by_role("button", name="Share with the client").click()
    expect(page.locator("#toasts")).to_contain_text(f"{NAME} is shared.")

    # The worker's pass, then /search finds words that are only inside the uploaded files.
    with app.app_context():
        assert not drain()["failed"]
    page.goto(f"{live_server.url}/search")
    page.get_by_label("Include active candidates").check()  # on an open job now
    wait_for_htmx(page)
    rows = page.locator("#search-table tbody tr")
    page.get_by_label("Search name, title, skills, tags, resume").press_sequentially(PDF_WORD.lower(), delay=20)
    expect(page).to_have_url(re.compile(f"q={PDF_WORD.lower()}"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(NAME)
    assert csp_errors == [] and candidate_csp == []
    staff.close()

    # The client contact: the shared PDF inline, then downloaded.
    client = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    portal = client.new_page()
    portal_csp = watch_csp(portal)
    portal.goto(day["landing"])
    portal.get_by_role("button", name="Continue").click()
    portal.goto(f"{live_server.url}/{day['slug']}/portal/candidates/{application_id}")
    expect(portal.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(portal.get_by_role("link", name="Watch video: Ottoline in two minutes")).to_be_visible()
    view = portal.get_by_role("link", name="View resume (PDF)")
    with portal.expect_response(lambda r: r.url.endswith("/resume")) as viewed:
        view.evaluate("link => link.removeAttribute('target')")  # in this tab: headless has no PDF tab
        view.click()
    assert viewed.value.status == 200
    assert viewed.value.headers["content-disposition"].startswith("inline;")
    wait_until(lambda: shows_a_white_page(portal), what="the PDF drawn by the viewer")
    portal.screenshot(path=str(artifacts / "recruiter-day-client-pdf.png"))
    portal.go_back()
    with portal.expect_download() as downloading:
        portal.get_by_role("link", name="Download resume (PDF)").click()
    saved = tmp_path / downloading.value.suggested_filename
    assert saved.suffix == ".pdf"
    downloading.value.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    kind = subprocess.run(["file", "-b", str(saved)], capture_output=True, text=True, check=True).stdout
    assert kind.startswith("PDF document"), kind
    assert portal_csp == []
    client.close()
