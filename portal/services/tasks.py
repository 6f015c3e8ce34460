"""Recruiters' tasks (A3): generated for the job owner when a client acts, and their life cycle:
complete (only when the required data exists), skip with a reason, reassign, comment, tick
checklist items; and the inbox and agency-wide views.

Generated tasks carry a ``dedupe_key`` unique per agency, so a double click, a second tab or
two contacts acting at once create one task (C10). Retracting a task (Undo) frees its key, so
acting again later creates a fresh task rather than reviving the retracted one.

The completion rules are the "fool-proofing" of the agency's process: a task cannot be ticked
off while the thing it stands for has not happened, and the refusal names exactly what is missing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Activity,
    Application,
    Interview,
    InterviewRequest,
    Job,
    Task,
    TaskChecklistItem,
    TaskComment,
    User,
    as_utc,
    job_team,
    utcnow,
)
from ..scoping import tasks_query
from . import ServiceError
from .activity import record
from .validation import clean_text

FEEDBACK_SENT = "candidate.feedback_sent"
STATUS_UPDATE_SENT = "candidate.status_update_sent"
OPEN = "open"


@dataclass(frozen=True)
class TaskSpec:
    """What a generated task of one type looks like."""

    title: str
    due: timedelta
    checklist: tuple[str, ...]
    # The stored task type when it differs from the spec's key: a re-arranged interview is the
    # same work as a first one (book it), so it shares its completion rule and scheduling page.
    stored_type: str | None = None


SPECS = {
    "organise_interview": TaskSpec(
        "Organise interview: {candidate} for {job}",
        timedelta(days=1),
        ("Review the client's proposed slots", "Check the candidate's availability", "Confirm the interview"),
    ),
    "rearrange_interview": TaskSpec(
        "Re-arrange interview: {candidate} for {job}",
        timedelta(days=1),
        ("Tell the client and the candidate why", "Find a new time", "Confirm the interview"),
        stored_type="organise_interview",
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
    "chase_feedback": TaskSpec(
        "Chase client feedback: {candidate} for {job}",
        timedelta(days=1),
        ("Call or write to the client's contacts", "Note what they said", "Agree a new date for their decision"),
    ),
    # No-ghosting (issue 15): made by the scheduled step before the "inform by" date.
    "inform_candidate": TaskSpec(
        "Inform the candidate: {candidate} ({job})",
        timedelta(days=5),
        ("Ask the client for their decision", "Tell the candidate where they stand"),
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
        type=spec.stored_type or task_type,
        assignee_id=job.owner_id,
        job_id=job.id,
        application_id=application.id,
        interview_request_id=interview_request_id,
        title=spec.title.format(candidate=candidate.name, job=job.title)[:300],
        due_at=(now or utcnow()) + spec.due,
        dedupe_key=dedupe_key,
        checklist=[TaskChecklistItem(label=label, position=i) for i, label in enumerate(spec.checklist)],
    )
    if now is not None:
        # On the timeline's clock: completing it looks for entries dated since it was made.
        task.created_at = as_utc(now)
    try:
        with db.session.begin_nested():
            db.session.add(task)
    except IntegrityError:
        # Another request created it between our read and our insert: use theirs.
        theirs = _by_key(application.agency_id, dedupe_key)
        if theirs is None:
            raise  # not the dedupe key: the insert broke another constraint
        return theirs
    return task


def organise_interview_task(application: Application, request_id: int, *, now: datetime | None = None) -> Task:
    """The job owner's "Organise interview" task for client request ``request_id`` (one per request)."""
    return generate_task(
        application,
        "organise_interview",
        f"organise_interview:req{request_id}",
        interview_request_id=request_id,
        now=now,
    )


def retract_task(agency_id: int, dedupe_key: str) -> Task | None:
    """Withdraw an open generated task (the action behind it was undone)."""
    task = _by_key(agency_id, dedupe_key)
    if task is None or task.status != "open":
        return None
    task.status, task.dedupe_key, task.completed_at = "retracted", None, utcnow()
    return task


def retract_request_tasks(request_id: int, *, now: datetime | None = None) -> list[int]:
    """Withdraw every open task made for interview request ``request_id`` (its "Organise" or
    "Re-arrange interview"): the request was closed. Returns their ids, for an Undo to restore.
    Their keys stay taken (unlike :func:`retract_task`): a closed request asks for no fresh task,
    and a restored one must still be found by its key, not doubled."""
    retracted = []
    for task in db.session.scalars(
        select(Task).where(Task.interview_request_id == request_id, Task.status == OPEN).order_by(Task.id)
    ):
        task.status, task.completed_at = "retracted", as_utc(now or utcnow())
        retracted.append(task.id)
    return retracted


def restore_tasks(agency_id: int, task_ids: list[int]) -> list[Task]:
    """Open again the tasks an action retracted (:func:`retract_request_tasks`), now undone."""
    if not task_ids:
        return []
    restored = list(
        db.session.scalars(
            select(Task).where(Task.agency_id == agency_id, Task.id.in_(task_ids), Task.status == "retracted")
        )
    )
    for task in restored:
        task.status, task.completed_at = OPEN, None
    return restored


def _by_key(agency_id: int, dedupe_key: str) -> Task | None:
    return db.session.scalar(select(Task).where(Task.agency_id == agency_id, Task.dedupe_key == dedupe_key))


def tasks_for_inbox(user: User) -> list[Task]:
    """The user's open tasks on jobs they may see, soonest due first (undated last)."""
    return list(
        db.session.scalars(
            tasks_query(user)
            .where(Task.assignee_id == user.id, Task.status == OPEN)
            .order_by(Task.due_at.is_(None), Task.due_at)
        )
    )


def open_tasks_for_agency(viewer: User) -> list[Task]:
    """Every open task of the agency that ``viewer`` may see, soonest due first (the head's view)."""
    return list(
        db.session.scalars(tasks_query(viewer).where(Task.status == OPEN).order_by(Task.due_at.is_(None), Task.due_at))
    )


def task_application(task: Task) -> Application | None:
    """The application the task is about, if any."""
    return db.session.get(Application, task.application_id) if task.application_id else None


def task_interview_request(task: Task) -> InterviewRequest | None:
    """The client's interview request an "Organise interview" task is for, if any."""
    return db.session.get(InterviewRequest, task.interview_request_id) if task.interview_request_id else None


def task_for_interview_request(request_id: int) -> Task | None:
    """The latest task made for an interview request (the one its scheduling page belongs to)."""
    return db.session.scalar(
        select(Task).where(Task.interview_request_id == request_id).order_by(Task.id.desc()).limit(1)
    )


def task_assignee(task: Task) -> User:
    """Who the task is assigned to."""
    return db.session.get_one(User, task.assignee_id)


def task_comments_page(task: Task, limit: int, before_id: int | None = None) -> tuple[list[TaskComment], bool]:
    """The newest ``limit`` comments written before comment ``before_id`` (keyset on id), oldest
    first, and whether earlier ones remain."""
    query = select(TaskComment).where(TaskComment.task_id == task.id)
    if before_id is not None:
        query = query.where(TaskComment.id < before_id)
    rows = list(db.session.scalars(query.order_by(TaskComment.id.desc()).limit(limit + 1)))
    return rows[:limit][::-1], len(rows) > limit


def missing_for_completion(task: Task) -> list[str]:
    """Everything that must exist before ``task`` may be completed (empty when it may)."""
    missing = []
    application = task_application(task)
    if task.type == "organise_interview":
        query = select(Interview.id).where(Interview.status == "scheduled")
        if task.interview_request_id:
            query = query.where(Interview.request_id == task.interview_request_id)
        else:
            query = query.where(Interview.application_id == task.application_id)
        if db.session.scalar(query.limit(1)) is None:
            missing.append("a confirmed interview (pick one of the proposed times, or propose others)")
    elif task.type == "send_feedback":
        sent = db.session.scalar(
            select(Activity.id)
            .where(
                Activity.application_id == task.application_id,
                Activity.verb == FEEDBACK_SENT,
                Activity.created_at >= task.created_at,
            )
            .limit(1)
        )
        if sent is None:
            missing.append("a feedback message sent to the candidate (or skip the task with a reason)")
    elif task.type == "inform_candidate" and application is not None and not _told_since(application, task):
        missing.append("the candidate's answer or a status update sent (Send feedback, or Send status update)")
    elif task.type == "process_offer" and application is not None and application.outcome is None:
        missing.append("the outcome of the offer (record the hire, or close the application with a reason)")
    missing.extend(f"checklist item not ticked: \u201c{item.label}\u201d" for item in task.checklist if not item.done)
    return missing


def _told_since(application: Application, task: Task) -> bool:
    """The candidate was given the answer, or a status update, since ``task`` was made."""
    if application.candidate_informed_at is not None:
        return True
    sent = select(Activity.id).where(
        Activity.application_id == application.id,
        Activity.verb.in_((FEEDBACK_SENT, STATUS_UPDATE_SENT)),
        Activity.created_at >= task.created_at,
    )
    return db.session.scalar(sent.limit(1)) is not None


def _require_open(task: Task) -> None:
    if task.status != OPEN:
        raise ServiceError(f"This task is already {task.status}.", field="task")


def complete_task(task: Task, by_user: User | None, *, now: datetime | None = None) -> Task:
    """Mark the task done, or refuse listing exactly what is missing. ``by_user`` is None when
    nobody on the agency's side did it (a candidate booked through their scheduling link)."""
    _require_open(task)
    missing = missing_for_completion(task)
    if missing:
        raise ServiceError("This task cannot be completed yet. Missing: " + "; ".join(missing) + ".", field="task")
    task.status, task.completed_at = "done", as_utc(now or utcnow())
    _log(task, by_user, "task.completed", f"Completed the task \u201c{task.title}\u201d", now=now)
    return task


def complete_interview_tasks(request_id: int, by_user: User | None, *, now: datetime | None = None) -> list[Task]:
    """The interview asked for in request ``request_id`` is booked: its open "Organise interview"
    tasks are done, with every checklist line ticked (the booking did what they list)."""
    open_tasks = list(
        db.session.scalars(
            select(Task).where(
                Task.interview_request_id == request_id, Task.type == "organise_interview", Task.status == OPEN
            )
        )
    )
    for task in open_tasks:
        for item in task.checklist:
            item.done = True
        complete_task(task, by_user, now=now)
    return open_tasks


def skip_task(task: Task, by_user: User, reason: str, *, now: datetime | None = None) -> Task:
    """Close a "Send feedback" task without a message, with the reason recorded."""
    _require_open(task)
    if task.type != "send_feedback":
        raise ServiceError("Only a feedback task can be skipped; this one needs its work done.", field="reason")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Say why the feedback is skipped (at least 5 characters).", field="reason")
    task.status, task.skip_reason, task.completed_at = "skipped", reason[:2000], as_utc(now or utcnow())
    _log(task, by_user, "task.skipped", f"Skipped the task \u201c{task.title}\u201d: {reason}", now=now)
    return task


def reassign_task(task: Task, by_user: User, assignee_id: int | None) -> Task:
    """Give the task to another active colleague who may see its job."""
    _require_open(task)
    assignee = db.session.get(User, assignee_id) if assignee_id else None
    if assignee is None or assignee.agency_id != task.agency_id or not assignee.active:
        raise ServiceError("Choose an active colleague.", field="assignee")
    if task.job_id and not assignee.is_admin:
        job = db.session.get_one(Job, task.job_id)
        on_team = db.session.scalar(
            select(func.count())
            .select_from(job_team)
            .where(job_team.c.job_id == job.id, job_team.c.user_id == assignee.id)
        )
        if job.confidential and job.owner_id != assignee.id and not on_team:
            raise ServiceError(f"{assignee.name} is not on this confidential job's hiring team.", field="assignee")
    if assignee.id == task.assignee_id:
        raise ServiceError(f"The task is already assigned to {assignee.name}.", field="assignee")
    task.assignee_id = assignee.id
    _log(task, by_user, "task.reassigned", f"Reassigned \u201c{task.title}\u201d to {assignee.name}")
    return task


def comment_on_task(task: Task, by_user: User, body: str) -> TaskComment:
    """Add a note to the task."""
    body = clean_text(
        body,
        field="body",
        max_length=5000,
        empty="Write a comment first.",
        too_long="Keep the comment under 5,000 characters.",
    )
    comment = TaskComment(task_id=task.id, author_id=by_user.id, body=body)
    db.session.add(comment)
    _log(task, by_user, "task.commented", f"Commented on \u201c{task.title}\u201d")
    return comment


def set_checklist_item(task: Task, item_id: int, done: bool) -> None:
    """Tick or untick one checklist line of an open task."""
    _require_open(task)
    item = next((i for i in task.checklist if i.id == item_id), None)
    if item is None:
        raise ServiceError("That checklist item is not on this task.", field="item")
    item.done = done


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    """Open and past its due date."""
    return task.status == OPEN and task.due_at is not None and as_utc(task.due_at) < as_utc(now or utcnow())


@dataclass
class WorkloadRow:
    """One recruiter's line in the agency-wide view."""

    user: User
    open_count: int
    overdue_count: int


def agency_workload(agency_id: int, now: datetime | None = None) -> list[WorkloadRow]:
    """Every active colleague with their open and overdue task counts (the head's view)."""
    now = as_utc(now or utcnow())
    counts = {
        row.assignee_id: (row.open, row.overdue)
        for row in db.session.execute(
            select(
                Task.assignee_id, func.count().label("open"), func.count().filter(Task.due_at < now).label("overdue")
            )
            .where(Task.agency_id == agency_id, Task.status == OPEN)
            .group_by(Task.assignee_id)
        )
    }
    users = db.session.scalars(
        select(User).where(User.agency_id == agency_id, User.active.is_(True)).order_by(User.name)
    )
    return [WorkloadRow(u, *counts.get(u.id, (0, 0))) for u in users]


def _log(task: Task, by_user: User | None, verb: str, summary: str, *, now: datetime | None = None) -> None:
    application = task_application(task)
    record(
        task.agency_id,
        verb,
        summary,
        actor=by_user,
        job_id=task.job_id,
        candidate_id=application.candidate_id if application else None,
        application_id=task.application_id,
        task_id=task.id,
        now=now,
    )
