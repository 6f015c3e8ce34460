"""Erasure that keeps the numbers (issue 16): a person's data goes, their placeholder stays.

``erase_candidate`` removes, in the caller's unit of work, everything that names or describes the
person: their names (the row becomes "Erased candidate #<id>"), e-mails, phone, every free-text
field, tags, notes about them, comments on their applications, resumes (kept in the database: the
app stores no files on disk) and video links, interview-request notes, scorecard notes, survey
comments, the values of what was shared with clients, consent records' wording, and every mail in
the outbox addressed to them. Text elsewhere in the agency that names them (timeline entries,
tasks, alerts, job notes, comments, mails to staff) is rewritten to the placeholder.

What counts stays: applications, their stages and stage history, ratings' stars, verdicts and
survey scores, so job counts and the scoreboard stay true. The placeholder is private (search
never lists it; the search outbox, written on flush, makes the worker delete its document) and
``erased_at`` is set. Each address is kept only as a keyed hash (``suppression``), so a later
import or "New candidate" bringing the person back is warned. The audit entry holds ids and counts.
"""

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from ..models import (
    Activity,
    Alert,
    Application,
    Candidate,
    CandidateEmail,
    CandidateTag,
    Comment,
    ConsentRecord,
    InterviewRequest,
    MailOutbox,
    Note,
    Resume,
    Scorecard,
    SharedProfile,
    SurveyAnswer,
    Task,
    TaskChecklistItem,
    TaskComment,
    User,
    VideoResume,
    as_utc,
    utcnow,
)
from . import ServiceError, suppression
from .audit import record_audit

# Free-text columns of the candidate row itself: cleared.
PERSONAL_COLUMNS = (
    "external_id",
    "phone",
    "headline",
    "current_title",
    "current_company",
    "location",
    "timezone",
    "summary",
    "skills",
    "notice_period",
    "salary_expectation",
    "source",
)
ERASED_TEXT = "(erased)"


def placeholder(candidate_id: int) -> str:
    """What an erased person is called from then on."""
    return f"Erased candidate #{candidate_id}"


@dataclass(frozen=True)
class ErasureCounts:
    """What an erasure removes (or would: the confirmation page) and the applications it keeps."""

    applications_kept: int
    emails: int
    files: int
    notes: int
    comments: int
    mails: int


def _application_ids(candidate: Candidate) -> list[int]:
    return list(db.session.scalars(select(Application.id).where(Application.candidate_id == candidate.id)))


def _addressed_mails(candidate: Candidate) -> list[MailOutbox]:
    """Mails in the outbox addressed to one of the person's addresses (the export's search, which
    also finds an address outside ASCII stored with JSON escapes)."""
    from .subject_access import mails_to

    return mails_to(candidate.agency_id, {e.email for e in candidate.emails})


def erasure_counts(candidate: Candidate) -> ErasureCounts:
    """Counts for the confirmation page: what will go, and the applications that stay."""
    application_ids = _application_ids(candidate)

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return ErasureCounts(
        applications_kept=len(application_ids),
        emails=len(candidate.emails),
        files=count(Resume, Resume.candidate_id == candidate.id)
        + count(VideoResume, VideoResume.candidate_id == candidate.id),
        notes=count(Note, Note.candidate_id == candidate.id),
        comments=count(Comment, Comment.application_id.in_(application_ids)),
        mails=len(_addressed_mails(candidate)),
    )


class _Scrubber:
    """Rewrites every mention of the person (names, addresses, phone) to the placeholder."""

    def __init__(self, candidate: Candidate):
        self.replacement = placeholder(candidate.id)
        full = " ".join(f"{candidate.first_name} {candidate.last_name}".split())
        # Longest first, so the full name is replaced before its parts.
        distinctive = [full, *(e.email for e in candidate.emails)]
        if candidate.phone and len(candidate.phone.strip()) >= 5:
            distinctive.append(candidate.phone.strip())
        self.distinctive = sorted({n for n in distinctive if n and len(n) >= 2}, key=len, reverse=True)
        parts = {candidate.first_name.strip(), (candidate.last_name or "").strip()}
        self.parts = sorted({p for p in parts if len(p) >= 2} - set(self.distinctive), key=len, reverse=True)
        # Whole words only: erasing "Al Lee" must not turn "Sales Analyst (Leeds)" or an
        # invitation's BEGIN:VCALENDAR into nonsense.
        needles = "|".join(re.escape(n) for n in (*self.distinctive, *self.parts))
        self._all = re.compile(rf"(?<!\w)(?:{needles})(?!\w)" if needles else r"(?!x)x", re.IGNORECASE)

    def text(self, value):
        """``value`` with every mention replaced (strings inside lists and dicts too)."""
        if isinstance(value, str):
            return self._all.sub(self.replacement, value)
        if isinstance(value, list):
            return [self.text(v) for v in value]
        if isinstance(value, dict):
            return {k: self.text(v) for k, v in value.items()}
        return value

    def mentions(self, column) -> ColumnElement[bool]:
        """A WHERE clause: the column mentions a distinctive needle (full name, address, phone)."""
        return or_(*(func.lower(column).contains(n.lower(), autoescape=True) for n in self.distinctive))

    def rewrite(self, rows: Iterable, *columns: str) -> int:
        changed = 0
        for row in rows:
            for name in columns:
                before = getattr(row, name)
                after = self.text(before)
                longest = getattr(row.__table__.c[name].type, "length", None)
                if isinstance(after, str) and longest:
                    after = after[:longest]
                if after != before:
                    setattr(row, name, after)
                    changed += 1
        return changed


def erase_candidate(
    candidate: Candidate, by_user: User | None, *, now: datetime | None = None, action: str = "candidate_erased"
) -> ErasureCounts:
    """Erase the person's data and keep their placeholder (see the module's notes), in the
    caller's unit of work. ``by_user`` None: the retention policy (``action`` "candidate_anonymised")."""
    if candidate.erased_at is not None:
        raise ServiceError("This person was erased already.")
    if by_user is not None and (not by_user.is_admin or by_user.agency_id != candidate.agency_id):
        raise ServiceError("Only an admin of the agency can erase a person.")
    now = as_utc(now or utcnow())
    counts = erasure_counts(candidate)
    agency_id = candidate.agency_id
    scrub = _Scrubber(candidate)
    application_ids = _application_ids(candidate)
    in_applications = Application.id.in_(application_ids)

    suppression.suppress(agency_id, [e.email for e in candidate.emails], now=now)
    for mail in _addressed_mails(candidate):
        db.session.delete(mail)
    db.session.execute(delete(Note).where(Note.candidate_id == candidate.id))
    db.session.execute(delete(Comment).where(Comment.application_id.in_(application_ids)))
    # Staff comments on the tasks of their applications are notes about them too.
    their_tasks = select(Task.id).where(Task.application_id.in_(application_ids))
    db.session.execute(delete(TaskComment).where(TaskComment.task_id.in_(their_tasks)))
    db.session.execute(delete(Resume).where(Resume.candidate_id == candidate.id))
    db.session.execute(delete(VideoResume).where(VideoResume.candidate_id == candidate.id))
    _clear_linked_text(candidate, application_ids, in_applications)
    _rewrite_mentions(agency_id, candidate.id, application_ids, scrub)
    _stop_what_waits_on_them(application_ids, now)

    for name in PERSONAL_COLUMNS:
        setattr(candidate, name, None)
    candidate.first_name = placeholder(candidate.id)
    candidate.last_name = ""
    candidate.looking_for_work = False
    candidate.private = True
    candidate.erased_at = now
    candidate.retention_asked_at = None
    candidate.retention_kept_at = None
    # Statements, not collection removals: a tracked statement refreshes the search facts and
    # outbox itself, whatever else is flushed with it.
    db.session.execute(delete(CandidateEmail).where(CandidateEmail.candidate_id == candidate.id))
    db.session.execute(delete(CandidateTag).where(CandidateTag.candidate_id == candidate.id))
    db.session.flush()
    db.session.expire(candidate, ["emails", "tags"])
    record_audit(action, agency_id=agency_id, actor=by_user, candidate_id=candidate.id, now=now, **asdict(counts))
    return counts


# Work that only makes sense while the person can be shown to a client or written to.
WAITING_TASK_TYPES = ("inform_candidate", "chase_feedback", "send_feedback")


def _stop_what_waits_on_them(application_ids: list[int], now: datetime) -> None:
    """No client keeps seeing the placeholder, no reminder or chase lists it, and no "inform the
    candidate" work waits for a person who can no longer be written to: live shares end, the
    no-ghosting date is cleared and the open tasks of that kind are retracted. The applications
    themselves (their stages and outcomes) stay, so the counts stay true."""
    db.session.execute(
        update(SharedProfile)
        .where(SharedProfile.application_id.in_(application_ids), SharedProfile.unshared_at.is_(None))
        .values(unshared_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Application)
        .where(Application.id.in_(application_ids), Application.candidate_informed_at.is_(None))
        .values(inform_by_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Task)
        .where(Task.application_id.in_(application_ids), Task.status == "open", Task.type.in_(WAITING_TASK_TYPES))
        .values(status="retracted", completed_at=now)
        .execution_options(synchronize_session=False)
    )


def _clear_linked_text(candidate: Candidate, application_ids: list[int], in_applications) -> None:
    """Free text on rows that belong to the person: cleared (the rows and their numbers stay)."""
    for consent in db.session.scalars(select(ConsentRecord).where(ConsentRecord.candidate_id == candidate.id)):
        consent.method = ERASED_TEXT
    if not application_ids:
        return
    for application in db.session.scalars(select(Application).where(in_applications)):
        application.outcome_comment = None
        application.external_id = None
    for share in db.session.scalars(select(SharedProfile).where(SharedProfile.application_id.in_(application_ids))):
        share.fields = [{**line, "value": ""} if isinstance(line, dict) else "" for line in share.fields or []]
        share.consent_override_reason = None
    for model, column in (
        (Scorecard, Scorecard.notes),
        (InterviewRequest, InterviewRequest.notes),
        (SurveyAnswer, SurveyAnswer.comment),
    ):
        for row in db.session.scalars(select(model).where(model.application_id.in_(application_ids))):
            setattr(row, column.key, None)


def _rewrite_mentions(agency_id: int, candidate_id: int, application_ids: list[int], scrub: _Scrubber) -> None:
    """Rows about the person (their timeline, tasks, alerts) and any agency text naming them."""
    linked = or_(Activity.candidate_id == candidate_id, Activity.application_id.in_(application_ids))
    scrub.rewrite(
        db.session.scalars(
            select(Activity).where(Activity.agency_id == agency_id, or_(linked, scrub.mentions(Activity.summary)))
        ),
        "summary",
        "detail",
    )
    task_ids = select(Task.id).where(Task.agency_id == agency_id)
    targets: list[tuple[Any, tuple[InstrumentedAttribute, ...], ColumnElement[bool]]] = [
        (Task, (Task.title, Task.skip_reason), Task.agency_id == agency_id),
        (TaskComment, (TaskComment.body,), TaskComment.task_id.in_(task_ids)),
        (TaskChecklistItem, (TaskChecklistItem.label,), TaskChecklistItem.task_id.in_(task_ids)),
        (Alert, (Alert.message,), Alert.agency_id == agency_id),
        (Note, (Note.body,), Note.agency_id == agency_id),
        (Comment, (Comment.body,), Comment.agency_id == agency_id),
        (
            MailOutbox,
            (MailOutbox.subject, MailOutbox.text_body, MailOutbox.html_body),
            MailOutbox.agency_id == agency_id,
        ),
    ]
    for model, columns, scope in targets:
        mention = or_(*(scrub.mentions(c) for c in columns))
        if model is Task or model is Alert:
            mention = or_(mention, model.application_id.in_(application_ids))
        rows: Iterable[Any] = db.session.scalars(select(model).where(scope, mention))
        names = [c.key for c in columns]
        if model is MailOutbox:
            names.append("attachments")
        scrub.rewrite(rows, *names)
