"""Tasks generated for the job owner (A3) and their life cycle.

Generated tasks carry a ``dedupe_key`` unique per agency, so a double click, a second tab or
two contacts acting at once create one task (C10). Retracting a task (Undo) frees its key, so
acting again later creates a fresh task rather than reviving the retracted one.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Application, Task, TaskChecklistItem, utcnow


@dataclass(frozen=True)
class TaskSpec:
    """What a generated task of one type looks like."""

    title: str
    due: timedelta
    checklist: tuple[str, ...]


SPECS = {
    "organise_interview": TaskSpec(
        "Organise interview: {candidate} for {job}",
        timedelta(days=1),
        ("Review the client's proposed slots", "Check the candidate's availability", "Confirm the interview"),
    ),
    "process_offer": TaskSpec(
        "Process offer: {candidate} for {job}",
        timedelta(days=2),
        ("Confirm salary and start date with the client", "Make the offer to the candidate", "Record the outcome"),
    ),
    "send_feedback": TaskSpec(
        "Send feedback to the candidate: {candidate} ({job})",
        timedelta(days=2),
        ("Write kind, specific feedback", "Send it to the candidate"),
    ),
}


def generate_task(
    application: Application,
    task_type: str,
    dedupe_key: str,
    *,
    interview_request_id: int | None = None,
    now: datetime | None = None,
) -> Task:
    """Create the task of ``task_type`` for the job owner, or return the one already made for
    ``dedupe_key``. Runs in a savepoint so a lost race does not undo the caller's work."""
    existing = _by_key(application.agency_id, dedupe_key)
    if existing is not None:
        return existing
    spec = SPECS[task_type]
    job, candidate = application.job, application.candidate
    task = Task(
        agency_id=application.agency_id,
        type=task_type,
        assignee_id=job.owner_id,
        job_id=job.id,
        application_id=application.id,
        interview_request_id=interview_request_id,
        title=spec.title.format(candidate=candidate.name, job=job.title)[:300],
        due_at=(now or utcnow()) + spec.due,
        dedupe_key=dedupe_key,
        checklist=[TaskChecklistItem(label=label, position=i) for i, label in enumerate(spec.checklist)],
    )
    try:
        with db.session.begin_nested():
            db.session.add(task)
    except IntegrityError:
        # Another request created it between our read and our insert: use theirs.
        return _by_key(application.agency_id, dedupe_key)
    return task


def retract_task(agency_id: int, dedupe_key: str) -> Task | None:
    """Withdraw an open generated task (the action behind it was undone)."""
    task = _by_key(agency_id, dedupe_key)
    if task is None or task.status != "open":
        return None
    task.status, task.dedupe_key, task.completed_at = "retracted", None, utcnow()
    return task


def _by_key(agency_id: int, dedupe_key: str) -> Task | None:
    return db.session.scalar(select(Task).where(Task.agency_id == agency_id, Task.dedupe_key == dedupe_key))
