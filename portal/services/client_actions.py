"""What a client contact can do to a shared candidate (C6–C10), and what it sets in motion
for the job owner: status, task, alert (with email), timeline entry, search update.

Every action locks the application row (PostgreSQL) and changes status with a conditional
UPDATE, so double clicks, two tabs and two contacts acting at once cannot both succeed;
generated tasks and alerts are keyed (``dedupe_key``) so a repeat finds the first.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Activity,
    Application,
    ClientContact,
    Comment,
    InterviewRequest,
    ProposedSlot,
    Rating,
    Reason,
    SharedProfile,
    User,
    as_utc,
    utcnow,
)
from . import ServiceError, application_status
from .activity import record_for
from .alerts import alert_job_owner, retract_alert
from .application_status import OPEN_FOR_DECISIONS
from .no_ghosting import record_decision, refresh_inform_by
from .tasks import generate_task, organise_interview_task, restore_tasks, retract_request_tasks, retract_task
from .timezones import valid_zone, zone_or_utc
from .validation import clean_text

UNDO_WINDOW = timedelta(seconds=10)
# The button disappears after UNDO_WINDOW; the server allows a little more for a slow phone network.
UNDO_GRACE = timedelta(seconds=5)
MAX_SLOTS = 10
DURATIONS = (15, 30, 45, 60, 90, 120, 180)
FORMATS = {"video": "Video call", "phone": "Phone call", "onsite": "On-site"}


@dataclass(frozen=True)
class SlotInput:
    """One proposed time as the contact typed it, in their zone."""

    day: date | None
    start: time | None
    minutes: int | None


@dataclass(frozen=True)
class RatingSummary:
    """The contact's own stars and the average of all contacts for one application."""

    mine: int | None
    average: float | None
    count: int


NO_LONGER_SHARED = "This candidate is no longer shared with you, so nothing was changed."


class NoLongerShared(ServiceError):
    """The candidate was unshared meanwhile: the answer must not show them any more (A2)."""


def ensure_actionable(application: Application) -> Application:
    """Refuse clearly (C10) when the candidate was unshared, or the job closed, meanwhile."""
    profile = application.shared_profile
    if profile is None or profile.unshared_at is not None:
        raise NoLongerShared(NO_LONGER_SHARED)
    if application.job.status != "open":
        raise ServiceError("This job is closed, so nothing was changed.")
    return application


def anonymous_ids(application_ids: list[int]) -> set[int]:
    """Of these applications, the blind shares whose client has never asked for an interview:
    they are presented as "Candidate A-<id>" with identifying details and resume withheld (A2a)."""
    if not application_ids:
        return set()
    asked = select(InterviewRequest.application_id).where(InterviewRequest.application_id == Application.id)
    return set(
        db.session.scalars(
            select(Application.id)
            .join(SharedProfile, SharedProfile.application_id == Application.id)
            .where(Application.id.in_(application_ids), SharedProfile.blind.is_(True), ~asked.exists())
        )
    )


def client_facing_name(application: Application) -> str:
    """How the client sees this candidate right now: the name, or the blind pseudonym."""
    if application.id in anonymous_ids([application.id]):
        return f"Candidate A-{application.id}"
    return application.candidate.name


def rating_summary(application: Application, contact: ClientContact) -> RatingSummary:
    """Own rating and the average over every contact's rating."""
    mine = db.session.scalar(
        select(Rating.stars).where(Rating.application_id == application.id, Rating.contact_id == contact.id)
    )
    average, count = db.session.execute(
        select(func.avg(Rating.stars), func.count(Rating.id)).where(Rating.application_id == application.id)
    ).one()
    return RatingSummary(mine, round(float(average), 1) if average is not None else None, count)


def rate(
    contact: ClientContact, application: Application, stars: int | None, now: datetime | None = None
) -> RatingSummary:
    """Set, change (``stars`` 1–5) or clear (``None``) the contact's rating (C6)."""
    now = now or utcnow()
    if stars is not None and not 1 <= stars <= 5:
        raise ServiceError("Choose from 1 to 5 stars.", field="stars")
    existing = db.session.scalar(
        select(Rating).where(Rating.application_id == application.id, Rating.contact_id == contact.id)
    )
    if stars is None:
        if existing is not None:
            db.session.delete(existing)
    elif existing is not None:
        existing.stars, existing.updated_at = stars, now
    else:
        _insert_or_update_rating(contact, application, stars, now)
    _touch(application, now)
    shown = client_facing_name(application)
    verb_summary = (
        f"rated {shown} {stars} star{'s' if stars != 1 else ''}" if stars else f"cleared their rating of {shown}"
    )
    record_for(
        application,
        "client.rated",
        f"{contact.name} {verb_summary}",
        actor=contact,
        stars=stars,
        now=now,
    )
    db.session.flush()
    return rating_summary(application, contact)


def _insert_or_update_rating(contact: ClientContact, application: Application, stars: int, now: datetime) -> None:
    """An upsert: a second click that raced this one (two tabs, a double tap) already inserted the
    contact's rating, so the unique constraint refuses ours; then change theirs instead of a 500."""
    try:
        with db.session.begin_nested():
            db.session.add(
                Rating(
                    agency_id=application.agency_id, application_id=application.id, contact_id=contact.id, stars=stars
                )
            )
    except IntegrityError:
        winner = db.session.scalars(
            select(Rating).where(Rating.application_id == application.id, Rating.contact_id == contact.id)
        ).one()
        winner.stars, winner.updated_at = stars, now


def add_comment(contact: ClientContact, application: Application, body: str, now: datetime | None = None) -> Comment:
    """Add to the candidate's thread, seen by the job's contacts and the agency (C6); the job
    owner is alerted to each comment, with its words, and can answer in the same thread."""
    comment = post_to_thread(application, contact, body, now=now)
    body = comment.body
    excerpt = body if len(body) <= 200 else body[:199] + "\u2026"
    alert_job_owner(
        application,
        "client_commented",
        f"{contact.name} ({contact.company.name}) commented on {application.candidate.name} for "
        f"{application.job.title}: \u201c{excerpt}\u201d",
        f"client_comment:{comment.id}",
        now=now,
    )
    record_for(
        application,
        "client.commented",
        f"{contact.name} commented on {client_facing_name(application)}",
        actor=contact,
        client_visible=True,
        now=now,
    )
    return comment


# What an empty or too long text is called: a contact comments, the agency replies.
COMMENT_WORDS = ("Write a comment first.", "Keep comments under 4,000 characters.")
REPLY_WORDS = ("Write a reply first.", "Keep replies under 4,000 characters.")


def post_to_thread(
    application: Application, author: ClientContact | User, body: str, *, now: datetime | None = None
) -> Comment:
    """The one way into a candidate's comment thread with the client, for a contact's comment
    and a recruiter's reply alike: the text checked, the comment written, the application
    touched. The callers add what differs (the alert, the mails, the timeline entry)."""
    # isinstance, not type(): a view may pass Flask-Login's proxy of the signed-in principal.
    by_staff = isinstance(author, User)
    empty, too_long = REPLY_WORDS if by_staff else COMMENT_WORDS
    body = clean_text(body, field="body", max_length=4000, empty=empty, too_long=too_long)
    comment = Comment(agency_id=application.agency_id, application_id=application.id, body=body)
    if by_staff:
        comment.author_user_id = author.id
    else:
        comment.author_contact_id = author.id
    db.session.add(comment)
    db.session.flush()
    _touch(application, now)
    return comment


def comments_for(application: Application) -> list[Comment]:
    """The whole thread, oldest first."""
    return list(
        db.session.scalars(
            select(Comment).where(Comment.application_id == application.id).order_by(Comment.created_at, Comment.id)
        )
    )


def comments_page(application: Application, limit: int, before_id: int | None = None) -> tuple[list[Comment], bool]:
    """The newest ``limit`` comments of the thread written before comment ``before_id`` (keyset on
    id: stable while others post), oldest first, and whether earlier ones remain."""
    query = select(Comment).where(Comment.application_id == application.id)
    if before_id is not None:
        query = query.where(Comment.id < before_id)
    rows = list(db.session.scalars(query.order_by(Comment.id.desc()).limit(limit + 1)))
    return rows[:limit][::-1], len(rows) > limit


def request_interview(
    contact: ClientContact,
    application: Application,
    *,
    interview_format: str,
    timezone_name: str,
    slots: list[SlotInput],
    notes: str = "",
    now: datetime | None = None,
) -> InterviewRequest:
    """Ask for an interview at one of the proposed times (C7). Times are stored in UTC beside
    the contact's zone; the job owner gets an "Organise interview" task, an alert and a mail."""
    now = now or utcnow()
    zone = check_format_and_zone(interview_format, timezone_name)
    if application.client_status not in ("awaiting_review",):
        existing = open_request(application)
        if existing is not None:
            return existing  # a repeat of the same request (double submit, second tab)
        raise ServiceError(
            f"An interview can't be requested now: the candidate is {status_label(application.client_status).lower()}."
        )
    proposed = check_proposed_times(slots, zone, notes, now)
    claimed = application_status.move(application, "interview_requested", now=now, allowed_from=("awaiting_review",))
    if not claimed:
        existing = open_request(application)
        if existing is not None:
            return existing
        raise ServiceError("Someone else changed this candidate a moment ago; reload to see the latest.")
    return open_interview_request(
        contact, application, interview_format=interview_format, zone=zone, proposed=proposed, notes=notes, now=now
    )


def check_format_and_zone(interview_format: str, timezone_name: str) -> ZoneInfo:
    """The interview format checked and the zone the contact chose (refused if unknown)."""
    if interview_format not in FORMATS:
        raise ServiceError("Choose video, phone or on-site.", field="format")
    return valid_zone(timezone_name)


def check_proposed_times(
    slots: list[SlotInput], zone: ZoneInfo, notes: str, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The proposed times in UTC (empty rows ignored, each refusal naming its field) and the notes
    checked: what every interview request, first or further round, must pass."""
    proposed = _validate_slots(slots, zone, now)
    if len((notes or "").strip()) > 2000:
        raise ServiceError("Keep the notes under 2,000 characters.", field="notes")
    return proposed


def open_interview_request(
    contact: ClientContact,
    application: Application,
    *,
    interview_format: str,
    zone: ZoneInfo,
    proposed: list[tuple[datetime, datetime]],
    notes: str,
    now: datetime,
    further_round: bool = False,
) -> InterviewRequest:
    """The one builder of a client's interview request (first round or a further one), from input
    already checked: the request with its times, the job owner's "Organise interview" task, the
    alert (with its mail) and the timeline entry."""
    request_row = InterviewRequest(
        agency_id=application.agency_id,
        application_id=application.id,
        contact_id=contact.id,
        format=interview_format,
        notes=(notes or "").strip() or None,
        timezone=zone.key,
        proposed_slots=[ProposedSlot(starts_at=start, ends_at=end, timezone=zone.key) for start, end in proposed],
    )
    db.session.add(request_row)
    db.session.flush()
    _touch(application, now)
    candidate = application.candidate.name
    task = organise_interview_task(application, request_row.id, now=now)
    asked = f"{contact.name} ({contact.company.name})"
    count = f"{len(proposed)} proposed time{'s' if len(proposed) > 1 else ''}"
    alert_job_owner(
        application,
        "interview_requested",
        f"{asked} asked for a further interview round with {candidate} for {application.job.title}: {count}."
        if further_round
        else f"{asked} asked to interview {candidate} for {application.job.title}: {count}.",
        f"interview_requested:req{request_row.id}",
        now=now,
        task=task,
    )
    record_for(
        application,
        "client.interview_requested",
        f"{contact.name} requested {'a further interview round' if further_round else 'an interview'} with {candidate}",
        actor=contact,
        client_visible=True,
        request_id=request_row.id,
        now=now,
    )
    return request_row


def request_hire(
    contact: ClientContact,
    application: Application,
    *,
    start_date: date | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Application:
    """Ask the agency to hire the candidate (C8): "Hire requested", a "Process offer" task, an alert."""
    now = now or utcnow()
    if start_date is not None and start_date < now.astimezone(zone_or_utc(contact.timezone)).date():
        raise ServiceError("The start date can't be in the past.", field="start_date")
    if len((note or "").strip()) > 2000:
        raise ServiceError("Keep the note under 2,000 characters.", field="note")
    if application.client_status in ("hire_requested", "hired"):
        return application  # already asked: a repeat changes nothing
    if not application_status.move(application, "hire_requested", now=now, allowed_from=OPEN_FOR_DECISIONS):
        raise ServiceError(f"This candidate can't be hired now: {status_label(application.client_status).lower()}.")
    record_decision(application, now=now)
    candidate = application.candidate.name
    task = generate_task(application, "process_offer", f"process_offer:app{application.id}", now=now)
    details = f" Proposed start: {start_date.isoformat()}." if start_date else ""
    alert_job_owner(
        application,
        "hire_requested",
        f"{contact.name} ({contact.company.name}) wants to hire {candidate} for {application.job.title}.{details}",
        f"hire_requested:app{application.id}",
        now=now,
        task=task,
    )
    record_for(
        application,
        "client.hire_requested",
        f"{contact.name} asked to hire {client_facing_name(application)}",
        actor=contact,
        client_visible=True,
        start_date=start_date.isoformat() if start_date else None,
        note=(note or "").strip() or None,
        now=now,
    )
    return application


def reject(contact: ClientContact, application: Application, now: datetime | None = None) -> Application:
    """One-click reject (C9): "Rejected by client" at once, for the portal and the shortlist.
    The feedback task and the alert are created now and withdrawn by an Undo. A scheduled
    interview stays booked while Undo is possible; then the worker cancels it for everyone
    (``interviews.cancel_interviews_of_rejected``)."""
    now = now or utcnow()
    if application.client_status == "rejected_by_client":
        return application  # double click: already done
    previous = application.client_status
    if not application_status.can_move(application, "rejected_by_client") or not application_status.close(
        application, "rejected_by_client", now=now
    ):
        db.session.refresh(application)
        if application.client_status == "rejected_by_client":
            return application
        raise ServiceError(f"This candidate can't be rejected now: {status_label(application.client_status).lower()}.")
    cancelled, retracted = cancel_open_requests(application, now=now)
    record_decision(application, now=now)
    candidate = application.candidate.name
    key = _reject_key(application)
    task = generate_task(application, "send_feedback", key, now=now)
    alert_job_owner(
        application,
        "rejected",
        f"{contact.name} ({contact.company.name}) rejected {candidate} for {application.job.title}.",
        key,
        hold_mail=UNDO_WINDOW + UNDO_GRACE,
        now=now,
        task=task,
    )
    record_for(
        application,
        "client.rejected",
        f"{contact.name} rejected {client_facing_name(application)}",
        actor=contact,
        client_visible=True,
        previous_status=previous,
        cancelled_requests=cancelled,
        retracted_tasks=retracted,
        now=now,
    )
    return application


def undo_reject(contact: ClientContact, application: Application, now: datetime | None = None) -> Application:
    """Undo a reject within the window: the previous status returns; task, alert and the alert's
    unsent email are withdrawn."""
    now = now or utcnow()
    if application.client_status != "rejected_by_client":
        return application  # nothing to undo (a repeat of a successful undo)
    entry = db.session.scalar(
        select(Activity)
        .where(Activity.application_id == application.id, Activity.verb == "client.rejected")
        .order_by(Activity.id.desc())
        .limit(1)
    )
    rejected_at = as_utc(application.closed_at)
    if entry is None or rejected_at is None or now - rejected_at > UNDO_WINDOW + UNDO_GRACE:
        raise ServiceError("It's too late to undo this rejection. Ask your recruiter if it was a mistake.")
    if entry.actor_contact_id != contact.id:
        raise ServiceError("Only the person who rejected this candidate can undo it.")
    previous = entry.detail.get("previous_status") or "awaiting_review"
    undone = application_status.move(
        application,
        previous,
        now=now,
        allowed_from=("rejected_by_client",),
        outcome=None,
        closed_at=None,
        reason_id=None,
        outcome_comment=None,
    )
    if not undone:
        return application  # a second Undo at the same moment: the first one did it
    refresh_inform_by(application, now=now)
    key = _reject_key(application)
    retract_task(application.agency_id, key)
    retract_alert(application.job.owner_id, key)
    _reopen_requests(
        application, entry.detail.get("cancelled_requests") or [], entry.detail.get("retracted_tasks") or [], now
    )
    record_for(
        application,
        "client.reject_undone",
        f"{contact.name} undid the rejection of {client_facing_name(application)}",
        actor=contact,
        client_visible=True,
        now=now,
    )
    return application


def explain_reject(
    contact: ClientContact,
    application: Application,
    *,
    reason_id: int | None,
    comment: str = "",
    now: datetime | None = None,
) -> Application:
    """Add the optional reason (from the agency's list) and comment after a reject (C9)."""
    if application.client_status != "rejected_by_client":
        raise ServiceError("This candidate is not rejected, so there is nothing to explain.")
    reason = None
    if reason_id is not None:
        reason = db.session.scalar(
            select(Reason).where(
                Reason.id == reason_id, Reason.kind == "rejection", Reason.agency_id == application.agency_id
            )
        )
        if reason is None:
            raise ServiceError("Choose a reason from the list.", field="reason_id")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ServiceError("Keep the comment under 2,000 characters.", field="comment")
    if reason is None and not comment:
        raise ServiceError("Choose a reason or write a comment.", field="reason_id")
    application.reason_id = reason.id if reason else application.reason_id
    application.outcome_comment = comment or application.outcome_comment
    _touch(application, now)
    record_for(
        application,
        "client.reject_reason",
        f"{contact.name} gave a reason for rejecting "
        f"{application.candidate.name}: {reason.label if reason else 'comment'}",
        actor=contact,
        reason=reason.label if reason else None,
        comment=comment or None,
        now=now,
    )
    return application


def undo_deadline(application: Application, now: datetime | None = None) -> datetime | None:
    """Until when the Undo button shows (None when there is nothing to undo)."""
    if application.client_status != "rejected_by_client" or application.closed_at is None:
        return None
    deadline = as_utc(application.closed_at) + UNDO_WINDOW
    return deadline if deadline > (now or utcnow()) else None


def rejection_reasons(agency_id: int) -> list[Reason]:
    """The agency's rejection reasons, in its order."""
    return list(
        db.session.scalars(
            select(Reason)
            .where(Reason.agency_id == agency_id, Reason.kind == "rejection")
            .order_by(Reason.position, Reason.label)
        )
    )


STATUS_LABELS = {
    "awaiting_review": "Awaiting your review",
    "interview_requested": "Interview requested",
    "interview_scheduled": "Interview scheduled",
    "hire_requested": "Hire requested",
    "hired": "Hired",
    "rejected_by_client": "Rejected by client",
    "closed": "No longer in process",
}


def status_label(status: str) -> str:
    """How a client status reads on the page."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def _validate_slots(slots: list[SlotInput], zone: ZoneInfo, now: datetime) -> list[tuple[datetime, datetime]]:
    filled = [(i, slot) for i, slot in enumerate(slots) if slot.day or slot.start or slot.minutes]
    if not filled:
        raise ServiceError("Propose at least one time.", field="slots-0-day")
    if len(filled) > MAX_SLOTS:
        raise ServiceError(f"Propose at most {MAX_SLOTS} times.", field="slots")
    proposed: list[tuple[int, datetime, datetime]] = []
    for i, slot in filled:
        if slot.day is None:
            raise ServiceError("Enter a date.", field=f"slots-{i}-day")
        if slot.start is None:
            raise ServiceError("Enter a start time.", field=f"slots-{i}-start")
        if slot.minutes not in DURATIONS:
            raise ServiceError("Choose a duration from the list.", field=f"slots-{i}-minutes")
        start = _to_utc(slot.day, slot.start, zone, f"slots-{i}-start")
        if start <= now:
            raise ServiceError("This time is in the past. Choose a later one.", field=f"slots-{i}-start")
        end = start + timedelta(minutes=slot.minutes)
        for j, other_start, other_end in proposed:
            if start < other_end and other_start < end:
                raise ServiceError(
                    f"This overlaps time {j + 1}. Choose times that don't overlap.", field=f"slots-{i}-start"
                )
        proposed.append((i, start, end))
    return [(start, end) for _i, start, end in proposed]


def _to_utc(day: date, start: time, zone: ZoneInfo, field: str) -> datetime:
    """Local wall time in ``zone`` to UTC; a time the clocks skip (DST gap) is refused."""
    local = datetime.combine(day, start).replace(tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ServiceError(
            f"{start.strftime('%H:%M')} doesn't exist on {day.isoformat()} in {zone.key} "
            "(the clocks change). Choose another time.",
            field=field,
        )
    return instant


def cancel_open_requests(application: Application, *, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """A closed or rejected candidate needs no interview: cancel the open requests and withdraw
    every open task made for them ("Organise" or "Re-arrange interview"). Returns the ids of the
    requests and of the tasks, so an Undo can restore exactly these."""
    cancelled, retracted = [], []
    for request_row in db.session.scalars(
        select(InterviewRequest).where(
            InterviewRequest.application_id == application.id, InterviewRequest.status == "open"
        )
    ):
        request_row.status = "cancelled"
        retracted.extend(retract_request_tasks(request_row.id, now=now))
        cancelled.append(request_row.id)
    return cancelled, retracted


def _reopen_requests(application: Application, request_ids: list[int], task_ids: list[int], now: datetime) -> None:
    """Undo of a reject: the interview requests it cancelled are open again, with the tasks it
    withdrew (a request whose task was not recorded gets a fresh "Organise interview")."""
    restored = {task.interview_request_id for task in restore_tasks(application.agency_id, task_ids)}
    for request_row in db.session.scalars(
        select(InterviewRequest).where(
            InterviewRequest.id.in_(request_ids),
            InterviewRequest.application_id == application.id,
            InterviewRequest.status == "cancelled",
        )
    ):
        request_row.status = "open"
        if request_row.id not in restored:
            organise_interview_task(application, request_row.id, now=now)


def open_request(application: Application) -> InterviewRequest | None:
    """The application's open interview request (at most one), if any."""
    return db.session.scalar(
        select(InterviewRequest).where(
            InterviewRequest.application_id == application.id, InterviewRequest.status == "open"
        )
    )


def _reject_key(application: Application) -> str:
    return f"send_feedback:app{application.id}"


def _touch(application: Application, now: datetime | None) -> None:
    application.last_activity_at = now or utcnow()
