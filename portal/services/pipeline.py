"""Jobs, stage moves and closing outcomes (A1, A6).

The "looking for work" flag follows the candidate's real situation: it turns off on a hire or
on a loss whose reason means they stopped looking ("already found a job"), and back on when a
new application shows they are looking again.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    ClientCompany,
    Job,
    Reason,
    StageDefinition,
    StageHistory,
    User,
    as_utc,
    utcnow,
)
from ..models.applications import OUTCOMES
from ..scoping import applications_query, jobs_query
from . import ServiceError, application_status
from .activity import record
from .client_actions import cancel_open_requests
from .interviews import cancel_scheduled_interviews
from .no_ghosting import record_decision
from .pipeline_config import stages
from .validation import clean_line

REASON_KIND = {"rejected_by_client": "rejection", "rejected_by_agency": "rejection", "withdrawn": "loss"}
OUTCOME_LABELS = {
    "hired": "Hired",
    "rejected_by_client": "Rejected by the client",
    "rejected_by_agency": "Rejected by the agency",
    "withdrawn": "Withdrawn",
}


@dataclass
class JobInput:
    """The editable fields of a job."""

    title: str
    company_id: int
    owner_id: int
    location: str | None = None
    description: str | None = None
    requisition_id: str | None = None
    confidential: bool = False
    status: str = "open"
    team_ids: tuple[int, ...] = ()
    # The working days a client has to decide on this job's shares; None: the agency's default.
    feedback_due_working_days: int | None = None


def _apply_job_input(job: Job, values: JobInput, agency_id: int, now: datetime) -> None:
    title = clean_line(
        values.title,
        field="title",
        max_length=200,
        empty="Give the job a title.",
        too_long="A job title can be at most 200 characters.",
    )
    company = db.session.get(ClientCompany, values.company_id) if values.company_id else None
    if company is None or company.agency_id != agency_id:
        raise ServiceError("Choose one of your clients.", field="company_id")
    owner = db.session.get(User, values.owner_id) if values.owner_id else None
    if owner is None or owner.agency_id != agency_id or not owner.active:
        raise ServiceError("Choose an active colleague as the owner.", field="owner_id")
    if values.status not in ("open", "closed"):
        raise ServiceError("A job is open or closed.", field="status")
    due_days = values.feedback_due_working_days
    if due_days is not None and not 1 <= due_days <= 60:
        raise ServiceError("Give between 1 and 60 working days, or leave it empty.", field="feedback_due_working_days")
    team = list(
        db.session.scalars(
            select(User).where(User.id.in_(set(values.team_ids)), User.agency_id == agency_id, User.active.is_(True))
        )
    )
    if len(team) != len(set(values.team_ids)):
        raise ServiceError("Choose active colleagues for the hiring team.", field="team_ids")
    if owner not in team:
        team.append(owner)
    if values.status == "closed" and job.status != "closed":
        job.closed_at = now
    elif values.status == "open":
        job.closed_at = None
    job.title, job.company_id, job.owner_id = title, company.id, owner.id
    job.location = (values.location or "").strip()[:200] or None
    job.description = (values.description or "").strip() or None
    job.requisition_id = (values.requisition_id or "").strip()[:80] or None
    job.confidential, job.status, job.hiring_team = bool(values.confidential), values.status, team
    job.feedback_due_working_days = due_days


def create_job(by_user: User, values: JobInput, *, now: datetime | None = None) -> Job:
    """Open a new job for one of the agency's clients."""
    now = as_utc(now or utcnow())
    job = Job(agency_id=by_user.agency_id, status="open")
    _apply_job_input(job, values, by_user.agency_id, now)
    db.session.add(job)
    db.session.flush()
    record(job.agency_id, "job.created", f"Created the job {job.title}", actor=by_user, job_id=job.id, now=now)
    return job


def can_edit_job(user: User, job: Job) -> bool:
    """Who may edit a job (its title, owner, hiring team, confidentiality, status): its owner, its
    hiring team and the agency's admins. Other recruiters who can see it may work its pipeline,
    not reassign or hide it."""
    return job.agency_id == user.agency_id and (
        user.is_admin or job.owner_id == user.id or any(member.id == user.id for member in job.hiring_team)
    )


def update_job(job: Job, by_user: User, values: JobInput, *, now: datetime | None = None) -> Job:
    """Save edits to a job (its owner, hiring team or an admin: see ``can_edit_job``)."""
    if not can_edit_job(by_user, job):
        raise ServiceError("Only the job's owner, its hiring team and admins can edit this job.")
    _apply_job_input(job, values, by_user.agency_id, as_utc(now or utcnow()))
    record(job.agency_id, "job.updated", f"Edited the job {job.title}", actor=by_user, job_id=job.id, now=now)
    return job


def move_stage(application: Application, stage_id: int, by_user: User, *, now: datetime | None = None) -> StageHistory:
    """Move an application to another pipeline stage, recording the move."""
    stage = db.session.get(StageDefinition, stage_id) if stage_id else None
    if stage is None or stage.agency_id != application.agency_id:
        raise ServiceError("Choose one of the agency's stages.", field="stage_id")
    if stage.id == application.stage_id:
        raise ServiceError(f"{application.candidate.name} is already in {stage.name}.", field="stage_id")
    now = as_utc(now or utcnow())
    history = StageHistory(
        agency_id=application.agency_id,
        application_id=application.id,
        from_stage_id=application.stage_id,
        to_stage_id=stage.id,
        moved_by_id=by_user.id,
        moved_at=now,
    )
    db.session.add(history)
    from_name = application.stage.name if application.stage else "-"
    # Column and relationship both: later reads in the same unit of work see the new stage.
    application.stage_id, application.stage, application.last_activity_at = stage.id, stage, now
    record(
        application.agency_id,
        "stage.moved",
        f"Moved {application.candidate.name} from {from_name} to {stage.name}",
        actor=by_user,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        application_id=application.id,
        from_stage=from_name,
        to_stage=stage.name,
        now=now,
    )
    return history


def close_application(
    application: Application,
    outcome: str,
    by_user: User,
    *,
    reason_id: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Application:
    """Close an application with an outcome and (except for a hire) a reason. Any other outcome
    cancels the open interview requests (and their tasks) and the scheduled interviews, with a
    cancellation invitation to everyone invited."""
    if outcome not in OUTCOMES:
        raise ServiceError("Choose an outcome.", field="outcome")
    if not application.is_active:
        raise ServiceError("This application is already closed.", field="outcome")
    reason = None
    if outcome != "hired":
        reason = db.session.get(Reason, reason_id) if reason_id else None
        if reason is None or reason.agency_id != application.agency_id or reason.kind != REASON_KIND[outcome]:
            raise ServiceError("Choose a reason from the list.", field="reason_id")
    now = as_utc(now or utcnow())
    closed = application_status.close(
        application,
        outcome,
        now=now,
        reason_id=reason.id if reason else None,
        outcome_comment=(comment or "").strip() or None,
    )
    if not closed:
        raise ServiceError("This application is already closed.", field="outcome")
    if outcome != "hired":
        # Nobody is to be interviewed any more: nothing stays booked or open, and everyone invited
        # receives the cancellation. A hire keeps its interviews (the client may still meet them).
        cancel_open_requests(application, now=now)
        cancel_scheduled_interviews(
            application, by_user, f"Interview cancelled: {OUTCOME_LABELS[outcome].lower()}", now=now
        )
    record_decision(application, now=now)
    candidate = application.candidate
    if outcome == "hired" or (reason is not None and reason.ends_job_search):
        candidate.looking_for_work = False
    summary = f"{OUTCOME_LABELS[outcome]}: {candidate.name}" + (f" ({reason.label})" if reason else "")
    record(
        application.agency_id,
        "application.closed",
        summary,
        actor=by_user,
        job_id=application.job_id,
        candidate_id=candidate.id,
        application_id=application.id,
        outcome=outcome,
        reason=reason.label if reason else None,
        now=now,
    )
    return application


def add_application(
    job: Job,
    candidate: Candidate,
    by_user: User | None,
    *,
    stage_id: int | None = None,
    source: str | None = None,
    applied_at: datetime | None = None,
    now: datetime | None = None,
) -> Application:
    """Put a candidate on a job: the one rule, for recruiters, the search shortlist and the import.

    The application starts at ``stage_id`` (the first stage by default), recorded in the stage
    history so "reached stage X" holds, with a timeline entry (``by_user`` None: the system, an
    import). A new application means they are looking for work again. ``applied_at`` records a
    past application (an import from another system): it is dated then and says nothing about
    whether the person looks for work today, so the flag is left as it is.
    """
    if candidate.agency_id != job.agency_id:
        raise ServiceError("Choose one of your candidates.", field="candidate_id")
    if db.session.scalar(
        select(Application.id).where(Application.job_id == job.id, Application.candidate_id == candidate.id)
    ):
        raise ServiceError(f"{candidate.name} is already on this job.", field="candidate_id")
    stages = list(
        db.session.scalars(
            select(StageDefinition).where(StageDefinition.agency_id == job.agency_id).order_by(StageDefinition.position)
        )
    )
    stage = next((s for s in stages if s.id == stage_id), stages[0] if stages else None)
    if stage is None:
        raise ServiceError("The agency has no pipeline stages yet.", field="stage_id")
    application = Application(
        agency_id=job.agency_id, job_id=job.id, candidate_id=candidate.id, stage_id=stage.id, source=source
    )
    if applied_at is not None:
        application.applied_at = application.last_activity_at = as_utc(applied_at)
    else:
        candidate.looking_for_work = True
        if now is not None:
            application.applied_at = application.last_activity_at = as_utc(now)
    db.session.add(application)
    db.session.flush()
    db.session.add(
        StageHistory(
            agency_id=job.agency_id,
            application_id=application.id,
            to_stage_id=stage.id,
            moved_by_id=by_user.id if by_user else None,
            moved_at=application.applied_at,
        )
    )
    if applied_at is None:
        # An imported past application is history, not today's news on the timelines.
        record(
            job.agency_id,
            "application.created",
            f"Added {candidate.name} to {job.title}",
            actor=by_user,
            job_id=job.id,
            candidate_id=candidate.id,
            application_id=application.id,
            now=now,
        )
    return application


def job_list(viewer: User) -> list[Job]:
    """The jobs ``viewer`` may see, open ones first, newest first, with client and owner loaded."""
    return list(
        db.session.scalars(
            jobs_query(viewer)
            .options(selectinload(Job.company), selectinload(Job.owner))
            .order_by(Job.status.desc(), Job.opened_at.desc())
        )
    )


def job_board(job: Job) -> list[tuple[StageDefinition, list[Application]]]:
    """The shortlist board: every stage of the agency with the job's applications in it."""
    # Every card shows the candidate and share state, and the board re-renders on each move.
    applications = db.session.scalars(
        select(Application)
        .where(Application.job_id == job.id)
        .options(
            selectinload(Application.candidate),
            selectinload(Application.shared_profile),
            selectinload(Application.reason),  # closed cards name their reason
        )
        .order_by(Application.applied_at)
    ).all()
    return [(stage, [a for a in applications if a.stage_id == stage.id]) for stage in stages(job.agency_id)]


def closing_reasons(agency_id: int) -> list[Reason]:
    """The agency's rejection and loss reasons, for the outcome form."""
    return list(
        db.session.scalars(select(Reason).where(Reason.agency_id == agency_id).order_by(Reason.kind, Reason.position))
    )


def candidate_applications(viewer: User, candidate: Candidate) -> list[Application]:
    """The candidate's applications on jobs ``viewer`` may see, newest first."""
    return list(
        db.session.scalars(
            applications_query(viewer)
            .where(Application.candidate_id == candidate.id)
            .order_by(Application.applied_at.desc())
        )
    )
