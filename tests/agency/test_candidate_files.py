"""A candidate's files (issue 14, item 2): resumes judged by their content with their text stored
for search, video resume links (https only), and who may open a resume with which headers.
Every file here is a real one made by the test."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import Activity, Resume, VideoResume
from portal.pdf_writer import text_pdf
from portal.resume_files import DOCX, MAX_BYTES, PDF
from portal.services import ServiceError
from portal.services.candidate_files import add_resume, add_video_resume, stored_filename
from portal.services.sharing import candidate_resumes, share_candidate
from tests.conftest import csrf_token, login_as
from tests.documents import PNG, document_xml, make_docx, make_encrypted_pdf, make_pdf, make_zip_without_document
from tests.factories import make_application, make_candidate, make_tenant

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DOCTYPE = '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'


# --- the service, without HTTP ----------------------------------------------------------------


def test_a_pdf_and_a_docx_are_stored_with_their_type_and_text_newest_first(desk):
    pdf = add_resume(desk.candidate, desk.recruiter, "Kavya CV.pdf", make_pdf("Kavya Rao", "Zanzibarite"), now=NOW)
    docx = add_resume(
        desk.candidate, desk.recruiter, "C:\\Users\\k\\cv.docx", make_docx("Quokkanomics", "Rust"), now=NOW
    )
    db.session.commit()
    assert (pdf.content_type, pdf.filename, pdf.text) == (PDF, "Kavya CV.pdf", "Kavya Rao\nZanzibarite")
    assert (docx.content_type, docx.filename, docx.text) == (DOCX, "cv.docx", "Quokkanomics\nRust")
    assert [r.id for r in candidate_resumes(desk.candidate.id)] == [docx.id, pdf.id]
    summaries = db.session.scalars(select(Activity.summary).where(Activity.verb == "resume.uploaded")).all()
    assert sorted(summaries) == [
        "Uploaded the resume Kavya CV.pdf (PDF) for Kavya Rao",
        "Uploaded the resume cv.docx (Word) for Kavya Rao",
    ]


def test_the_name_follows_the_content_not_the_other_way_round(desk):
    resume = add_resume(desk.candidate, desk.recruiter, "photo.png", make_pdf("A PDF named .png"), now=NOW)
    assert (resume.content_type, resume.filename) == (PDF, "photo.pdf")
    assert stored_filename("../../etc/passwd", DOCX) == "passwd.docx"
    assert stored_filename("", PDF) == "resume.pdf"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cv.pdf", PNG, "Resume: Choose a PDF or Word (.docx) file: this file is neither"),
        ("cv.docx", make_zip_without_document(), "Resume: Choose a PDF or Word (.docx) file: this file is a zip"),
        ("cv.pdf", make_encrypted_pdf("Secret"), "Resume: This PDF is password-protected or encrypted"),
        ("cv.pdf", b"%PDF-1.7\nthis is not a PDF body at all", "Resume: This PDF is damaged"),
        ("cv.docx", make_docx(xml="<w:document><w:body>"), "Resume: This Word file is damaged"),
        ("cv.docx", make_docx(xml=document_xml(["x"], doctype=DOCTYPE)), "Resume: This Word file is damaged"),
        ("cv.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Resume: This is a password-protected Office"),
        ("cv.pdf", b"", "Resume: The file is empty."),
    ],
    ids=[
        "png-named-pdf",
        "zip-not-word",
        "encrypted-pdf",
        "malformed-pdf",
        "malformed-docx",
        "docx-with-dtd",
        "ole",
        "empty",
    ],
)
def test_each_refusal_names_the_resume_and_saves_nothing(desk, name, content, message):
    with pytest.raises(ServiceError) as refusal:
        add_resume(desk.candidate, desk.recruiter, name, content, now=NOW)
    assert refusal.value.field == "resume" and refusal.value.message.startswith(message)
    db.session.rollback()
    assert db.session.scalar(select(Resume.id)) is None


def test_over_ten_megabytes_is_refused_and_exactly_ten_is_not(desk):
    # A long document title pads a valid PDF to the byte.
    title = "x" * (MAX_BYTES - len(text_pdf(["Big but allowed"], title="")))
    title = title[: len(title) - (len(text_pdf(["Big but allowed"], title=title)) - MAX_BYTES)]
    exactly = text_pdf(["Big but allowed"], title=title)
    assert len(exactly) == MAX_BYTES
    assert add_resume(desk.candidate, desk.recruiter, "big.pdf", exactly, now=NOW).text == "Big but allowed"
    with pytest.raises(ServiceError, match=r"Resume: The file is over the 10 MB limit"):
        add_resume(
            desk.candidate, desk.recruiter, "bigger.pdf", text_pdf(["Big but allowed"], title=title + "x"), now=NOW
        )


def test_video_links_are_https_with_a_host_and_an_optional_title(desk):
    video = add_video_resume(desk.candidate, desk.recruiter, " https://video.example/kavya ", "", now=NOW)
    titled = add_video_resume(desk.candidate, desk.recruiter, "https://vimeo.example/1", "Intro  call", now=NOW)
    assert (video.url, video.title) == ("https://video.example/kavya", "Video resume (video.example)")
    assert titled.title == "Intro call"
    assert db.session.scalar(select(Activity.summary).where(Activity.verb == "video_resume.added")).startswith(
        "Added the video resume"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://video.example/kavya", "only secure https:// links"),
        ("javascript:alert(1)", "only secure https:// links"),
        ("JavaScript://video.example/%0Aalert(1)", "only secure https:// links"),
        ("not a url", "this is not a web address"),
        ("video.example/kavya", "only secure https:// links"),
        ("https://", "this is not a web address"),
        ("https://user:pw@video.example/", "this is not a web address"),
        ("https://localhost/x", "this is not a web address"),
        ("https://video.example:99999/", "this is not a web address"),
        ("", "enter the https:// address"),
    ],
)
def test_bad_video_links_are_refused(desk, url, message):
    with pytest.raises(ServiceError, match=message) as refusal:
        add_video_resume(desk.candidate, desk.recruiter, url, now=NOW)
    assert refusal.value.field == "video_url" and refusal.value.message.startswith("Video resume link: ")


def test_an_upload_can_be_shared_and_its_text_is_what_search_reads(desk):
    resume = add_resume(desk.candidate, desk.recruiter, "cv.pdf", make_pdf("Pangolinography"), now=NOW)
    video = add_video_resume(desk.candidate, desk.recruiter, "https://video.example/k", now=NOW)
    share_candidate(
        desk.application,
        desk.recruiter,
        resume_id=resume.id,
        video_resume_id=video.id,
        consent_override_reason="Consent by phone",
        now=NOW + timedelta(minutes=1),
    )
    db.session.commit()
    profile = desk.application.shared_profile
    assert (profile.resume_id, profile.video_resume_id) == (resume.id, video.id)
    assert "Pangolinography" in PdfReader(io.BytesIO(resume.content)).pages[0].extract_text()


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def world(app, client):
    with app.app_context():
        tenant = make_tenant("fileco")
        db.session.commit()
        yield tenant


def _upload(client, candidate_id, name, content, htmx=True):
    """A multipart POST encoded in memory (the test client spools a large body to a temporary
    file it never closes: a ResourceWarning under filterwarnings=error)."""
    headers = {"X-CSRFToken": csrf_token(client), **({"HX-Request": "true"} if htmx else {})}
    boundary, body = encode_multipart(MultiDict({"resume": FileStorage(io.BytesIO(content), name)}))
    return client.post(
        f"/agency/candidates/{candidate_id}/resumes",
        data=body,
        headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_the_candidate_page_has_the_fixed_names(client, world):
    login_as(client, world.recruiter)
    page = client.get(f"/agency/candidates/{world.application.candidate_id}").get_data(as_text=True)
    assert '<label for="resume">Resume</label>' in page and 'type="file"' in page and ">Upload</button>" in page
    assert '<label for="video_url">Video resume link</label>' in page


def test_upload_then_view_and_download_with_the_right_headers(client, world):
    login_as(client, world.recruiter)
    candidate_id = world.application.candidate_id
    fragment = _upload(client, candidate_id, "cv.pdf", make_pdf("Okapi"))
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and 'id="candidate-files"' in html
    resume_id = db.session.scalar(select(Resume.id).where(Resume.candidate_id == candidate_id))
    assert f"/agency/resumes/{resume_id}" in html and "Resume uploaded." in html
    inline = client.get(f"/agency/resumes/{resume_id}")
    assert inline.data.startswith(b"%PDF-") and inline.headers["Content-Type"] == "application/pdf"
    assert inline.headers["Content-Disposition"] == 'inline; filename="cv.pdf"'
    assert inline.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in inline.headers["Content-Security-Policy"]  # the site's, unchanged
    download = client.get(f"/agency/resumes/{resume_id}?download=1")
    assert download.headers["Content-Disposition"] == 'attachment; filename="cv.pdf"'

    _upload(client, candidate_id, "notes.pdf", make_docx("Word body"))  # a DOCX named .pdf
    docx = db.session.scalar(select(Resume).where(Resume.candidate_id == candidate_id).order_by(Resume.id.desc()))
    word = client.get(f"/agency/resumes/{docx.id}")  # never inline: a browser cannot show it
    assert word.headers["Content-Type"] == DOCX
    assert word.headers["Content-Disposition"] == 'attachment; filename="notes.docx"'


def test_a_refused_upload_renders_in_place_as_fragment_and_page(client, world):
    login_as(client, world.recruiter)
    candidate_id = world.application.candidate_id
    fragment = _upload(client, candidate_id, "cv.pdf", PNG)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 422 and "<html" not in html
    assert 'id="resume-error"' in html and "Resume: Choose a PDF or Word (.docx) file" in html
    page = _upload(client, candidate_id, "cv.pdf", make_encrypted_pdf("x"), htmx=False)
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)
    assert "password-protected or encrypted" in page.get_data(as_text=True)
    over = _upload(client, candidate_id, "cv.pdf", make_pdf("x") + b"%" * MAX_BYTES)
    assert over.status_code == 422 and "Resume: The file is over the 10 MB limit" in over.get_data(as_text=True)
    nothing = _upload(client, candidate_id, "", b"")
    assert nothing.status_code == 422 and "choose a PDF or Word" in nothing.get_data(as_text=True)
    assert db.session.scalar(select(Resume.id)) is None


def test_a_video_link_is_added_or_refused_in_place(client, world):
    login_as(client, world.recruiter)
    candidate_id = world.application.candidate_id
    path = f"/agency/candidates/{candidate_id}/videos"
    headers = {"X-CSRFToken": csrf_token(client), "HX-Request": "true"}
    bad = client.post(path, data={"video_url": "javascript:alert(1)"}, headers=headers)
    assert bad.status_code == 422 and 'id="video_url-error"' in bad.get_data(as_text=True)
    assert 'value="javascript:alert(1)"' in bad.get_data(as_text=True)  # kept for correcting
    good = client.post(path, data={"video_url": "https://video.example/v", "video_title": "Hello"}, headers=headers)
    assert good.status_code == 200 and 'href="https://video.example/v"' in good.get_data(as_text=True)
    plain = client.post(
        path, data={"video_url": "https://video.example/w"}, headers={"X-CSRFToken": headers["X-CSRFToken"]}
    )
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/agency/candidates/{candidate_id}")
    assert db.session.scalar(select(VideoResume.title).where(VideoResume.url == "https://video.example/w"))


def test_resumes_are_scoped_to_the_agency_and_the_jobs_a_recruiter_may_see(app, client, world):
    other = make_tenant("otherfileco")
    hidden_candidate = make_candidate(world.agency)
    make_application(world.confidential_job, hidden_candidate)
    ours = add_resume(world.application.candidate, world.recruiter, "cv.pdf", make_pdf("Ours"), now=NOW)
    hidden = add_resume(hidden_candidate, world.admin, "cv.pdf", make_pdf("Hidden"), now=NOW)
    theirs = add_resume(other.application.candidate, other.recruiter, "cv.pdf", make_pdf("Theirs"), now=NOW)
    db.session.commit()
    ids = ours.id, hidden.id, theirs.id
    login_as(client, world.outsider)  # not on the confidential job's team
    assert [client.get(f"/agency/resumes/{i}").status_code for i in ids] == [200, 404, 404]
    assert _upload(client, hidden_candidate.id, "cv.pdf", make_pdf("x")).status_code == 404
    login_as(client, world.admin)
    assert [client.get(f"/agency/resumes/{i}").status_code for i in ids] == [200, 200, 404]
    login_as(client, world.contact)  # client contacts never reach the workspace
    assert client.get(f"/agency/resumes/{ours.id}").status_code == 404


def test_clients_get_only_the_shared_resume_of_their_job_with_its_type_and_extension(app, client, world):
    candidate = world.application.candidate
    pdf = add_resume(candidate, world.recruiter, "cv.pdf", make_pdf("Shared"), now=NOW)
    docx = add_resume(candidate, world.recruiter, "cv.docx", make_docx("Word"), now=NOW)
    db.session.flush()
    world.application.shared_profile.resume_id = pdf.id
    db.session.commit()
    name, application_id, docx_id = candidate.name, world.application.id, docx.id
    base = f"/{world.agency.slug}/portal/candidates/{application_id}"
    login_as(client, world.contact)
    page = client.get(base).get_data(as_text=True)
    assert "View resume (PDF)" in page and "Download resume (PDF)" in page
    inline = client.get(f"{base}/resume")
    assert inline.headers["Content-Type"] == "application/pdf" and inline.data.startswith(b"%PDF-")
    assert inline.headers["Content-Disposition"] == f'inline; filename="{name} - resume.pdf"'
    assert inline.headers["X-Content-Type-Options"] == "nosniff"
    download = client.get(f"{base}/resume?download=1")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name} - resume.pdf"'
    login_as(client, world.other_contact)  # a contact of a job it is not shared on
    assert client.get(f"{base}/resume").status_code == 404

    db.session.get(type(world.application.shared_profile), world.application.shared_profile.id).resume_id = docx_id
    db.session.commit()
    login_as(client, world.contact)
    page = client.get(base).get_data(as_text=True)
    assert "View resume" not in page and "Download resume (Word)" in page
    word = client.get(f"{base}/resume")
    assert word.headers["Content-Type"] == DOCX
    assert word.headers["Content-Disposition"] == f'attachment; filename="{name} - resume.docx"'


def test_an_imported_text_resume_is_served_as_text(app, client, world):
    resume = Resume(
        agency_id=world.agency.id,
        candidate_id=world.application.candidate_id,
        filename="imported-resume.txt",
        content_type="text/plain",
        content=b"Plain words",
        text="Plain words",
    )
    db.session.add(resume)
    db.session.flush()
    world.application.shared_profile.resume_id = resume.id
    db.session.commit()
    name = world.application.candidate.name
    login_as(client, world.contact)
    served = client.get(f"/{world.agency.slug}/portal/candidates/{world.application.id}/resume?download=1")
    assert served.headers["Content-Type"] == "text/plain; charset=utf-8" and served.data == b"Plain words"
    assert served.headers["Content-Disposition"] == f'attachment; filename="{name} - resume.txt"'


def test_a_body_over_the_server_limit_says_what_the_resume_limit_is(client, world):
    login_as(client, world.recruiter)
    too_big = _upload(client, world.application.candidate_id, "cv.pdf", b"%PDF-" + bytes(13 * 1024 * 1024), htmx=False)
    assert too_big.status_code == 413 and "Resumes can be at most 10 MB" in too_big.get_data(as_text=True)
