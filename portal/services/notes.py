"""Notes the agency keeps on candidates and jobs (issue 14, item 1): who wrote what, and when.

A note is the agency's own: clients never see it. Each one is also a timeline entry of its
candidate or job, so the page's history reads in one place.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Candidate, Job, Note, User, as_utc, utcnow
from . import ServiceError
from .activity import record
from .validation import clean_text

LONGEST_NOTE = 5000
TIMELINE_CHARS = 200  # how much of the note its timeline entry quotes


def add_candidate_note(candidate: Candidate, by_user: User, body: str, *, now: datetime | None = None) -> Note:
    """A note on a candidate, with its timeline entry."""
    if candidate.agency_id != by_user.agency_id:
        raise ServiceError("Choose one of your candidates.")
    return _add(by_user, body, now, candidate_id=candidate.id)


def add_job_note(job: Job, by_user: User, body: str, *, now: datetime | None = None) -> Note:
    """A note on a job, with its timeline entry."""
    if job.agency_id != by_user.agency_id:
        raise ServiceError("Choose one of your jobs.")
    return _add(by_user, body, now, job_id=job.id)


def candidate_notes(candidate: Candidate) -> list[Note]:
    """A candidate's notes, newest first, with their authors."""
    return _notes(Note.candidate_id == candidate.id, candidate.agency_id)


def job_notes(job: Job) -> list[Note]:
    """A job's notes, newest first, with their authors."""
    return _notes(Note.job_id == job.id, job.agency_id)


def _add(by_user: User, body: str, now: datetime | None, **subject) -> Note:
    text = clean_text(
        body,
        field="body",
        max_length=LONGEST_NOTE,
        empty="Write the note first.",
        too_long=f"Keep the note to {LONGEST_NOTE:,} characters or fewer.",
    )
    when = as_utc(now or utcnow())
    note = Note(agency_id=by_user.agency_id, author_id=by_user.id, body=text, created_at=when, **subject)
    db.session.add(note)
    db.session.flush()
    quoted = " ".join(text.split())
    if len(quoted) > TIMELINE_CHARS:
        quoted = quoted[: TIMELINE_CHARS - 1] + "…"
    record(by_user.agency_id, "note.added", f"Note: {quoted}", actor=by_user, now=when, note_id=note.id, **subject)
    return note


def _notes(criterion, agency_id: int) -> list[Note]:
    query = (
        select(Note)
        .where(Note.agency_id == agency_id, criterion)
        .options(selectinload(Note.author))
        .order_by(Note.created_at.desc(), Note.id.desc())
    )
    return list(db.session.scalars(query))
