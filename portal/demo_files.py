"""The demo's resumes and video resumes: a real small PDF per shared candidate (made with
``portal.pdf_writer``: it opens in a viewer and pypdf reads its text), a video link each, and
the demo's shares offering most of them, so the client's candidate page (C5) shows its resume
and video links from the first visit."""

from datetime import datetime, timedelta

from sqlalchemy import select

from .extensions import db
from .models import Application, Candidate, Resume, SharedProfile, VideoResume
from .pdf_writer import text_pdf


def resume_paragraphs(candidate: Candidate) -> list[str]:
    """What a demo candidate's resume says (all of it from their record: nothing invented)."""
    return [
        candidate.name,
        candidate.headline or "",
        " · ".join(part for part in (candidate.location, candidate.primary_email, candidate.phone) if part),
        f"Summary: {candidate.summary or ''}",
        f"Experience: {candidate.current_title or ''} at {candidate.current_company or ''}",
        f"Skills: {candidate.skills or ''}",
        f"Notice period: {candidate.notice_period or ''}",
    ]


def add_demo_files(agency_ids: list[int], now: datetime) -> None:
    """Give each candidate shared in these agencies a PDF resume and a video link. On each job the
    first share offers both, then two in three shares offer the resume and one in two the video.
    Deterministic: no randomness, dates relative to ``now``."""
    shared = db.session.execute(
        select(SharedProfile, Application.candidate_id, Application.job_id)
        .join(Application, Application.id == SharedProfile.application_id)
        .where(Application.agency_id.in_(agency_ids))
        .order_by(Application.job_id, SharedProfile.id)
    ).all()
    files: dict[int, tuple[Resume, VideoResume]] = {}
    for _, candidate_id, _ in shared:
        if candidate_id not in files:
            files[candidate_id] = _files_for(db.session.get_one(Candidate, candidate_id), now)
    db.session.flush()
    position: dict[int, int] = {}
    for profile, candidate_id, job_id in shared:
        n = position[job_id] = position.get(job_id, -1) + 1
        resume, video = files[candidate_id]
        profile.resume_id = resume.id if n % 3 != 2 else None
        profile.video_resume_id = video.id if n % 2 == 0 else None


def _files_for(candidate: Candidate, now: datetime) -> tuple[Resume, VideoResume]:
    paragraphs = resume_paragraphs(candidate)
    uploaded = now - timedelta(days=candidate.id % 60 + 2)
    slug = f"{candidate.first_name}-{candidate.last_name}".lower()
    resume = Resume(
        agency_id=candidate.agency_id,
        candidate_id=candidate.id,
        filename=f"{slug}-resume.pdf",
        content_type="application/pdf",
        content=text_pdf(paragraphs, title=f"{candidate.name} - resume"),
        text="\n".join(paragraphs),
        uploaded_at=uploaded,
    )
    db.session.add(resume)
    video = VideoResume(
        agency_id=candidate.agency_id,
        candidate_id=candidate.id,
        title=f"{candidate.first_name} introduces themself",
        url=f"https://video.example/demo/{slug}-{candidate.id}",
        created_at=uploaded,
    )
    db.session.add(video)
    return resume, video
