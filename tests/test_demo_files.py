"""The demo's files (issue 14): real PDFs that pypdf reads, video links, and shares offering them,
so a demo client's candidate page shows the resume and video links."""

import io
from datetime import UTC, datetime

from pypdf import PdfReader
from sqlalchemy import select

from portal.demo import _job_with_shared_candidates, load_demo
from portal.extensions import db
from portal.models import Application, ClientContact, Resume, SharedProfile, VideoResume
from portal.resume_files import read_resume
from tests.conftest import login_as

LOADED_AT = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def test_demo_resumes_are_real_pdfs_and_the_shares_offer_them_to_each_client(client, ctx):
    load_demo(now=LOADED_AT)
    db.session.commit()
    resumes = db.session.scalars(select(Resume).order_by(Resume.id)).all()
    assert len(resumes) >= 20
    for resume in resumes[:10]:
        assert resume.content.startswith(b"%PDF-") and resume.content_type == "application/pdf"
        assert resume.filename.endswith(".pdf") and resume.uploaded_at < LOADED_AT
        assert not PdfReader(io.BytesIO(resume.content)).is_encrypted
        assert read_resume(resume.content).text == resume.text  # what the upload path would store
    profiles = db.session.scalars(select(SharedProfile)).all()
    with_resume = [p for p in profiles if p.resume_id]
    with_video = [p for p in profiles if p.video_resume_id]
    assert 0 < len(with_resume) < len(profiles) and 0 < len(with_video) < len(profiles)
    assert all(v.url.startswith("https://") for v in db.session.scalars(select(VideoResume)))

    # Each demo client sees a resume and a video on the job its landing link opens.
    seen = 0
    for contact in db.session.scalars(select(ClientContact).order_by(ClientContact.id)).all():
        job = _job_with_shared_candidates(contact)
        if job is None:
            continue
        applications = db.session.scalars(
            select(Application)
            .join(SharedProfile, SharedProfile.application_id == Application.id)
            .where(Application.job_id == job.id, SharedProfile.resume_id.is_not(None))
        ).all()
        assert applications, contact.email
        login_as(client, contact)
        slug = contact.agency.slug
        pages = [client.get(f"/{slug}/portal/candidates/{a.id}").get_data(as_text=True) for a in applications]
        assert any("View resume (PDF)" in page for page in pages), contact.email
        assert any("Watch video:" in page for page in pages), contact.email
        served = client.get(f"/{slug}/portal/candidates/{applications[0].id}/resume?download=1")
        assert served.status_code == 200 and served.data.startswith(b"%PDF-"), contact.email
        seen += 1
    assert seen >= 4
