"""No-ghosting guarantee (issue 15 item 2): every candidate who reached a client is told where
they stand by a date, ``Application.inform_by_at``.

The date follows the facts, recomputed by the few services that change them:

* shared, no decision yet: ``inform_days_after_interview`` after the end of the latest scheduled
  interview, or after the share while none is booked (a shortlist the client never answers
  must not leave the candidate waiting for ever);
* a decision (the client rejected or asked to hire, the agency closed the application):
  ``inform_days_after_decision`` after it. Later interview changes no longer move the date;
* withdrawn, or never shared: no date (nothing is owed).

The candidate counts as informed (``candidate_informed_at``) once the final e-mail went out
(:func:`mark_informed`, from ``candidate_messages.send_feedback``) or the hire was recorded (the
offer was made and accepted). A status update ("still with the client, expected by …") is kind
but is not the answer: it is on the timeline and it does not move the date, so updates cannot
put the candidate off for ever.

The scheduled step gives the job owner an "Inform the candidate" task and an alert
``WARN_DAYS`` before the date, once per application and date, however many workers run it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select

from ..extensions import db
from ..models import Agency, Application, Interview, SharedProfile, Task, User, as_utc, utcnow
from ..scoping import applications_query
from . import ServiceError
from .activity import record_for
from .agency_templates import render_email
from .alerts import alert_job_owner
from .mail import send_mail
from .scheduled import once, scheduled_step
from .tasks import STATUS_UPDATE_SENT, generate_task
from .timezones import zone_or_utc

# How long before the "inform by" date the job owner is given the task.
WARN_DAYS = 5
STATUS_UPDATE_KEY = "status_update"
# An outcome that owes the candidate no answer (they withdrew themselves): no date at all.
NOTHING_OWED = ("withdrawn",)
# Outcomes never at risk: the above, and a hire (the candidate accepted the offer).
DONE_OUTCOMES = ("hired", "withdrawn")


def _decided(application: Application) -> bool:
    """A decision has been taken on the application (a close, or the client's hire request)."""
    return application.outcome is not None or application.client_status == "hire_requested"


def _last_interview_end(application: Application) -> datetime | None:
    ends = db.session.scalar(
        select(func.max(Interview.ends_at)).where(
            Interview.application_id == application.id, Interview.status == "scheduled"
        )
    )
    return as_utc(ends) if ends is not None else None


def _agency(application: Application) -> Agency:
    return db.session.get_one(Agency, application.agency_id)


def refresh_inform_by(application: Application, *, now: datetime | None = None) -> datetime | None:
    """Recompute the date after a share or an interview change (booked, moved, cancelled) or an
    Undo. Once a decision has been taken its date stands: see :func:`record_decision`."""
    profile = application.shared_profile
    if profile is None or application.outcome in NOTHING_OWED:
        application.inform_by_at = None
        return None
    if _decided(application):
        if application.inform_by_at is None:
            return record_decision(application, now=now)
        return application.inform_by_at
    base = _last_interview_end(application) or as_utc(profile.shared_at or now or utcnow())
    application.inform_by_at = base + timedelta(days=_agency(application).inform_days_after_interview)
    return application.inform_by_at


def record_decision(application: Application, *, now: datetime | None = None) -> datetime | None:
    """A decision was taken (the client rejected or asked to hire, the agency closed): the
    candidate is owed the answer ``inform_days_after_decision`` after it. A hire means the offer
    was accepted, so the candidate counts as informed."""
    now = as_utc(now or utcnow())
    if application.shared_profile is None or application.outcome in NOTHING_OWED:
        application.inform_by_at = None
        return None
    application.inform_by_at = now + timedelta(days=_agency(application).inform_days_after_decision)
    if application.outcome == "hired" and application.candidate_informed_at is None:
        application.candidate_informed_at = now
    return application.inform_by_at


def mark_informed(application: Application, *, now: datetime | None = None) -> None:
    """The candidate received the final e-mail (feedback, or the offer): no longer at risk."""
    application.candidate_informed_at = as_utc(now or utcnow())


def at_risk() -> ColumnElement[bool]:
    """SQL: an application with an "inform by" date whose candidate has not been told and that is
    not done (hired or withdrawn). Overdue is this and ``inform_by_at < now``."""
    return and_(
        Application.inform_by_at.is_not(None),
        Application.candidate_informed_at.is_(None),
        or_(Application.outcome.is_(None), Application.outcome.not_in(DONE_OUTCOMES)),
    )


def is_overdue(application: Application, now: datetime | None = None) -> bool:
    """The date passed and the candidate has not been told (the marker on cards and pages)."""
    return (
        application.inform_by_at is not None
        and application.candidate_informed_at is None
        and application.outcome not in DONE_OUTCOMES
        and as_utc(application.inform_by_at) < as_utc(now or utcnow())
    )


def not_informed(viewer: User, *, due_within_days: int = 0, now: datetime | None = None) -> list[Application]:
    """The applications ``viewer`` may see whose candidate is not informed and whose date has
    passed (``due_within_days`` 0), or falls within that many days; soonest first."""
    now = as_utc(now or utcnow())
    return list(
        db.session.scalars(
            applications_query(viewer)
            .where(at_risk(), Application.inform_by_at < now + timedelta(days=due_within_days))
            .order_by(Application.inform_by_at, Application.id)
        )
    )


def overdue_count(viewer: User, *, now: datetime | None = None) -> int:
    """How many applications ``viewer`` may see are past their date with the candidate not told."""
    now = as_utc(now or utcnow())
    query = applications_query(viewer).where(at_risk(), Application.inform_by_at < now)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


@dataclass
class StatusUpdate:
    """The status update a candidate would receive: subject, body, and where it goes."""

    subject: str
    body: str
    to: str | None
    expected_by: str


def _expected_by(application: Application, now: datetime) -> str:
    if not reached_client(application) or application.outcome is not None:
        raise ServiceError("A status update is for a candidate still with the client.", field="application")
    if application.candidate_informed_at is not None:
        raise ServiceError("The candidate has already been given the answer.", field="application")
    if application.inform_by_at is None:
        raise ServiceError("This application has no date to tell the candidate by.", field="application")
    if as_utc(application.inform_by_at) <= now:
        raise ServiceError(
            "The date to tell the candidate has passed: send them the answer, or feedback.", field="application"
        )
    # The candidate's zone; when unknown, the agency's side of the conversation: the job owner's.
    candidate_zone = application.candidate.timezone or application.job.owner.timezone
    local = as_utc(application.inform_by_at).astimezone(zone_or_utc(candidate_zone))
    return f"{local:%A} {local.day} {local:%B %Y} ({local.tzinfo})"


def reached_client(application: Application) -> bool:
    """The candidate was shared with the client (the only applications that owe an answer)."""
    return application.shared_profile is not None


def compose_status_update(application: Application, by_user: User, *, now: datetime | None = None) -> StatusUpdate:
    """The agency's ``status_update`` e-mail for ``application`` (refused when none is due)."""
    now = as_utc(now or utcnow())
    expected_by = _expected_by(application, now)
    agency = _agency(application)
    values = {
        "first_name": application.candidate.first_name,
        "job": application.job.title,
        "client": application.job.company.name,
        "agency": agency.title,
        "recruiter": by_user.name,
        "expected_by": expected_by,
    }
    subject, body = render_email(agency, STATUS_UPDATE_KEY, values)
    return StatusUpdate(subject, body, application.candidate.primary_email, expected_by)


def send_status_update(application: Application, by_user: User, *, now: datetime | None = None):
    """E-mail the candidate a short, kind "still with the client, expected by …" (one click),
    with a timeline entry. It does not count as the answer and does not move the date."""
    now = as_utc(now or utcnow())
    update = compose_status_update(application, by_user, now=now)
    if not update.to:
        raise ServiceError(f"{application.candidate.name} has no e-mail address.", field="application")
    paragraphs = [p.strip() for p in update.body.split("\n\n") if p.strip()]
    if paragraphs and paragraphs[0].lower().startswith("hello"):
        paragraphs = paragraphs[1:]  # the e-mail layout greets the candidate itself
    mail = send_mail(
        _agency(application),
        "candidate.status_update",
        update.to,
        update.subject,
        "agency_notice",
        greeting=application.candidate.first_name,
        paragraphs=paragraphs,
        reply_to=application.job.owner.email,
    )
    db.session.flush()
    record_for(
        application,
        STATUS_UPDATE_SENT,
        f"Sent {application.candidate.name} a status update (answer expected by {update.expected_by})",
        actor=by_user,
        mail_id=mail.id,
        now=now,
    )
    return mail


def _due_for_task(now: datetime) -> list[tuple[int, int, datetime]]:
    """(agency, application, date) of every application at risk whose date is near or passed and
    whose owner has no task for that date yet (the key in :func:`warn_owners` stays the guard: this
    only spares every pass a claim per long-overdue application)."""
    tasked = (
        select(Task.id)
        .where(
            Task.application_id == Application.id,
            Task.type == "inform_candidate",
            Task.due_at == Application.inform_by_at,
        )
        .exists()
    )
    rows = db.session.execute(
        select(Application.agency_id, Application.id, Application.inform_by_at)
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(at_risk(), Application.inform_by_at <= now + timedelta(days=WARN_DAYS), ~tasked)
        .order_by(Application.id)
    )
    return [(agency_id, application_id, as_utc(when)) for agency_id, application_id, when in rows]


def task_key(application_id: int, inform_by_at: datetime) -> str:
    """The key of the task (and alert) for one application and date: a moved date warns again."""
    return f"inform_candidate:app{application_id}:{as_utc(inform_by_at):%Y-%m-%d}"


@scheduled_step("no-ghosting", group="reminders")
def warn_owners(now: datetime) -> dict[str, int]:
    """Give the job owner an "Inform the candidate" task and an alert ``WARN_DAYS`` before each
    application's date (or at once when it is nearer), once per application and date."""
    from ..unit_of_work import unit_of_work

    now = as_utc(now)
    tasks = 0
    for agency_id, application_id, inform_by_at in _due_for_task(now):
        key = task_key(application_id, inform_by_at)
        with unit_of_work():
            # Decided from a read before the write lock: look again under it (the candidate may
            # have been told, or the date moved, in between).
            application = db.session.get_one(Application, application_id, populate_existing=True)
            if (
                application.candidate_informed_at is not None
                or application.outcome in DONE_OUTCOMES
                or as_utc(application.inform_by_at) != inform_by_at
            ):
                continue
            if not once(agency_id, key, now):
                # This day's task exists: a date moved within the day moves its due time, so the
                # next pass does not find the application again (and claim the key every minute).
                same_day = db.session.scalar(select(Task).where(Task.agency_id == agency_id, Task.dedupe_key == key))
                if same_day is not None:
                    same_day.due_at = inform_by_at
                continue
            task = generate_task(application, "inform_candidate", key, now=now)
            task.due_at = inform_by_at
            candidate, job = application.candidate, application.job
            when = as_utc(inform_by_at).astimezone(zone_or_utc(job.owner.timezone))
            alert_job_owner(
                application,
                "inform_candidate",
                f"Tell {candidate.name} where they stand on {job.title} by "
                f"{when:%a} {when.day} {when:%b %Y, %H:%M} ({when.tzinfo}).",
                key,
                now=now,
                task=task,
            )
            tasks += 1
    return {"inform tasks": tasks}
