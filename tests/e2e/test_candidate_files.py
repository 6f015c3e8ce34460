"""A recruiter's files in Chromium (issue 14, item 2): upload a PDF and a DOCX and add a video
link on a candidate's page, share the PDF and the video to a job; the job's client contact opens
the resume inline and downloads a file that ``file`` calls a PDF; ``/search`` finds a word that is
only inside an uploaded file. axe-core on the candidate page, the share form and the client's page."""

import subprocess
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import ConsentRecord, Resume, SharedProfile, VideoResume
from portal.services.auth import landing_link
from search_sync.client import meili_client
from search_sync.sync import drain
from tests.documents import make_docx, make_pdf
from tests.e2e.browser import assert_accessible, shows_a_white_page, wait_for_htmx, watch_csp
from tests.factories import PASSWORD, make_tenant
from tests.servers import wait_until

pytestmark = pytest.mark.e2e
PDF_WORD, DOCX_WORD = "Quokkasteward", "Pangolinographer"


@pytest.fixture
def desk(app, meili):
    """A tenant whose unshared candidate has consent for the job's client, in its own index."""
    previous = app.config["MEILI_INDEX"]
    app.config["MEILI_INDEX"] = f"e2e_{uuid.uuid4().hex[:10]}"
    with app.app_context():
        tenant = make_tenant("filese2e")
        application = tenant.unshared_application
        db.session.add(
            ConsentRecord(
                agency_id=tenant.agency.id,
                candidate_id=application.candidate_id,
                company_id=tenant.company.id,
                given_at=datetime(2026, 1, 5, tzinfo=UTC),
                method="Phone call",
            )
        )
        landing = landing_link(tenant.contact, tenant.job)
        db.session.commit()
        assert not drain()["failed"]
        yield {
            "recruiter": tenant.recruiter.email,
            "candidate_id": application.candidate_id,
            "name": application.candidate.name,
            "application_id": application.id,
            "slug": tenant.agency.slug,
            "landing": landing,
        }
        meili_client(timeout=5).delete_index(app.config["MEILI_INDEX"])
        db.session.remove()
    app.config["MEILI_INDEX"] = previous


def test_upload_share_view_download_and_find(app, live_server, browser, desk, tmp_path, artifacts):
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    csp_errors = watch_csp(page)
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email", exact=True).fill(desk["recruiter"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    page.goto(f"{live_server.url}/agency/candidates/{desk['candidate_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(desk["name"])

    files = page.locator("#candidate-files")
    pdf = make_pdf(desk["name"], f"Chief {PDF_WORD} at Globex")
    page.get_by_label("Resume", exact=True).set_input_files(
        {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": pdf}
    )
    page.get_by_role("button", name="Upload").click()
    expect(files.get_by_role("status")).to_have_text("Resume uploaded.")
    expect(page.locator("#resume-list")).to_contain_text("cv.pdf · PDF")
    wait_for_htmx(page)
    page.get_by_label("Resume", exact=True).set_input_files(
        {"name": "cv.docx", "mimeType": "application/octet-stream", "buffer": make_docx(f"Certified {DOCX_WORD}")}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#resume-list li")).to_have_count(2)
    expect(page.locator("#resume-list li").first).to_contain_text("cv.docx · Word")  # newest first
    wait_for_htmx(page)
    page.get_by_label("Video resume link").fill("http://video.example/intro")
    page.get_by_role("button", name="Add video link").click()
    expect(page.locator("#video_url-error")).to_contain_text("only secure https:// links")
    wait_for_htmx(page)
    page.get_by_label("Video resume link").fill("https://video.example/intro")
    page.get_by_label("Title (optional)").fill("Two-minute intro")
    page.get_by_role("button", name="Add video link").click()
    expect(page.get_by_role("link", name="Two-minute intro")).to_have_attribute("href", "https://video.example/intro")
    links = page.locator("#resume-list a")
    assert all("resume" in (links.nth(i).get_attribute("href") or "") for i in range(links.count()))
    page.screenshot(path=str(artifacts / "candidate-files.png"), full_page=True)
    assert_accessible(page, "candidate page with files")

    with app.app_context():
        pdf_id = db.session.scalar(select(Resume.id).where(Resume.filename == "cv.pdf"))
        video_id = db.session.scalar(select(VideoResume.id))
    page.goto(f"{live_server.url}/agency/applications/{desk['application_id']}/share")
    page.get_by_label("Resume file").select_option(str(pdf_id))
    page.get_by_label("Video resume").select_option(str(video_id))
    assert_accessible(page, "share form with files")
    page.get_by_role("button", name="Share with the client").click()
    expect(page.locator("#toasts")).to_contain_text(f"{desk['name']} is shared.")
    with app.app_context():
        profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == desk["application_id"]))
        assert (profile.resume_id, profile.video_resume_id) == (pdf_id, video_id)
        assert not drain()["failed"]

    # Search (with active candidates: this one is in process) finds the word that is only inside
    # the newest upload (the DOCX).
    page.goto(f"{live_server.url}/search?q={DOCX_WORD.lower()}&include_active=y")
    expect(page.locator("#search-table tbody tr")).to_have_count(1)
    expect(page.locator("#search-table tbody tr").first).to_contain_text(desk["name"])
    assert csp_errors == []

    # The client contact of the job: the resume inline, then downloaded.
    client = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    portal = client.new_page()
    portal_csp = watch_csp(portal)
    portal.goto(desk["landing"])
    portal.get_by_role("button", name="Continue").click()
    portal.goto(f"{live_server.url}/{desk['slug']}/portal/candidates/{desk['application_id']}")
    expect(portal.get_by_role("link", name="Watch video: Two-minute intro")).to_be_visible()
    assert_accessible(portal, "client candidate page with resume")
    view = portal.get_by_role("link", name="View resume (PDF)")
    with portal.expect_response(lambda r: r.url.endswith("/resume")) as viewed:
        view.evaluate("link => link.removeAttribute('target')")  # in this tab: headless has no PDF tab
        view.click()
    response = viewed.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["x-content-type-options"] == "nosniff"
    # Chromium's PDF viewer draws the white page (under the site's strict CSP): not an empty grey.
    wait_until(lambda: shows_a_white_page(portal), what="the PDF drawn by the viewer")
    portal.screenshot(path=str(artifacts / "client-resume-inline.png"))
    assert portal_csp == []
    portal.goto(f"{live_server.url}/{desk['slug']}/portal/candidates/{desk['application_id']}")
    with portal.expect_download() as downloading:
        portal.get_by_role("link", name="Download resume (PDF)").click()
    download = downloading.value
    assert download.suggested_filename == f"{desk['name']} - resume.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    kind = subprocess.run(["file", "-b", str(saved)], capture_output=True, text=True, check=True).stdout
    assert kind.startswith("PDF document"), kind
    staff.close()
    client.close()
