"""Interview scheduling (A5): slots in both zones, conflict checks, free windows, invitations.

Every time is stored in UTC beside an IANA zone name; conversion to a person's zone happens only
for display and in each recipient's own ``.ics`` file. A confirmation first locks the owner's and
the candidate's rows (``SELECT ... FOR UPDATE``), so two confirmations for one owner run one after
the other and the second sees the first's interview; the partial unique index on
``(owner_id, starts_at)`` is the last guard for identical start times.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    ClientContact,
    Interview,
    InterviewRequest,
    Job,
    ProposedSlot,
    User,
    as_utc,
    utcnow,
)
from . import ServiceError, application_status
from .activity import record_for
from .alerts import alert_job_owner
from .client_profile import client_sees_contact_details
from .mail import absolute_url, send_mail
from .no_ghosting import refresh_inform_by
from .tasks import complete_interview_tasks, generate_task

SLOT_GRANULARITY = timedelta(minutes=20)
WORKDAY_START = time(9, 0)
WORKDAY_END = time(18, 0)
SEARCH_HORIZON = timedelta(days=14)


def to_utc(value: datetime) -> datetime:
    """Any datetime as an aware UTC one (naive values are the UTC that SQLite hands back).

    Comparisons in SQL must use UTC: SQLite compares the stored text, not the instant."""
    return as_utc(value).astimezone(ZoneInfo("UTC"))


class SchedulingConflict(ServiceError):
    """A refused slot; ``suggestions`` holds the nearest free start times (UTC)."""

    def __init__(self, message: str, suggestions: list[datetime]):
        super().__init__(message, field="slot")
        self.suggestions = suggestions


@dataclass
class SlotInZones:
    """One proposed slot shown in the owner's zone and the proposer's zone."""

    slot: ProposedSlot
    owner_start: datetime
    owner_end: datetime
    proposer_start: datetime
    proposer_end: datetime
    owner_zone: str
    proposer_zone: str
    conflicts: list[Interview] = field(default_factory=list)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``, UTC when unknown or empty."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_in_zone(instant: datetime, zone_name: str | None) -> str:
    """``Mon 9 Mar 2026, 14:00 (Europe/London)``: always with the zone name (A8)."""
    local = to_utc(instant).astimezone(zone(zone_name))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone(zone_name).key})"


def slots_in_zones(request: InterviewRequest, owner: User) -> list[SlotInZones]:
    """The request's slots in the job owner's zone and the proposer's, each with its conflicts."""
    application = db.session.get_one(Application, request.application_id)
    views = []
    for slot in request.proposed_slots:
        start, end = to_utc(slot.starts_at), to_utc(slot.ends_at)
        views.append(
            SlotInZones(
                slot=slot,
                owner_zone=zone(owner.timezone).key,
                proposer_zone=zone(slot.timezone).key,
                owner_start=start.astimezone(zone(owner.timezone)),
                owner_end=end.astimezone(zone(owner.timezone)),
                proposer_start=start.astimezone(zone(slot.timezone)),
                proposer_end=end.astimezone(zone(slot.timezone)),
                conflicts=find_conflicts(owner.id, application.candidate_id, start, end),
            )
        )
    return views


def find_conflicts(
    owner_id: int, candidate_id: int, starts_at: datetime, ends_at: datetime, exclude_interview_id: int | None = None
) -> list[Interview]:
    """Scheduled interviews of the owner or the candidate that overlap ``[starts_at, ends_at)``."""
    query = (
        select(Interview)
        .join(Application, Application.id == Interview.application_id)
        .where(
            Interview.status == "scheduled",
            Interview.starts_at < ends_at,
            Interview.ends_at > starts_at,
            or_(Interview.owner_id == owner_id, Application.candidate_id == candidate_id),
        )
        .order_by(Interview.starts_at)
    )
    if exclude_interview_id is not None:
        query = query.where(Interview.id != exclude_interview_id)
    return list(db.session.scalars(query))


def free_windows(
    owner: User,
    candidate_id: int,
    around: datetime,
    duration: timedelta,
    *,
    now: datetime | None = None,
    count: int = 3,
    exclude_interview_id: int | None = None,
) -> list[datetime]:
    """The ``count`` free start times nearest to ``around`` (UTC), on the owner's local 20-minute
    grid, inside the owner's working hours (Mon–Fri 09:00–18:00 in their zone), not in the past,
    and clear of the owner's and the candidate's scheduled interviews."""
    now = to_utc(now or utcnow())
    around = to_utc(around)
    owner_zone = zone(owner.timezone)
    busy = [
        (to_utc(i.starts_at), to_utc(i.ends_at))
        for i in find_conflicts(
            owner.id, candidate_id, around - SEARCH_HORIZON, around + SEARCH_HORIZON + duration, exclude_interview_id
        )
    ]
    local = around.astimezone(owner_zone)
    # Align to the owner's local grid (:00, :20, :40), which stays aligned while stepping in UTC
    # because real offset changes are whole hours (multiples of 20 minutes).
    aligned = local.replace(minute=local.minute - local.minute % 20, second=0, microsecond=0)
    origin = aligned.astimezone(ZoneInfo("UTC"))
    steps = int(SEARCH_HORIZON / SLOT_GRANULARITY)
    found = []
    for step in range(-steps, steps + 1):
        start = origin + step * SLOT_GRANULARITY
        end = start + duration
        if start < now or not _within_working_hours(start, end, owner_zone):
            continue
        if any(b_start < end and b_end > start for b_start, b_end in busy):
            continue
        found.append(start)
    found.sort(key=lambda start: (abs(start - around), start))
    return sorted(found[:count])


def _within_working_hours(start: datetime, end: datetime, owner_zone: ZoneInfo) -> bool:
    local_start, local_end = start.astimezone(owner_zone), end.astimezone(owner_zone)
    return (
        local_start.weekday() < 5
        and local_start.date() == local_end.date()
        and local_start.time() >= WORKDAY_START
        and local_end.time() <= WORKDAY_END
    )


def interviews_for_applications(application_ids: list[int]) -> list[Interview]:
    """Every interview (scheduled or cancelled) of these applications, latest first."""
    if not application_ids:
        return []
    return list(
        db.session.scalars(
            select(Interview).where(Interview.application_id.in_(application_ids)).order_by(Interview.starts_at.desc())
        )
    )


def request_owner(request: InterviewRequest) -> User:
    """The owner of the job the request is for: the interview goes in their calendar and zone."""
    return db.session.get_one(Application, request.application_id).job.owner


def _lock_people(owner_id: int, candidate_id: int) -> None:
    """Serialise scheduling per owner and per candidate with row locks. SQLite has none: there the
    unit of work began with the write lock (BEGIN IMMEDIATE), which serialises all writers."""
    db.session.execute(select(User.id).where(User.id == owner_id).with_for_update())
    db.session.execute(select(Candidate.id).where(Candidate.id == candidate_id).with_for_update())


def _refuse_conflicts(
    owner: User,
    application: Application,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_interview_id: int | None = None,
) -> None:
    clashes = find_conflicts(owner.id, application.candidate_id, start, end, exclude_interview_id)
    if clashes:
        whose = "the job owner" if any(c.owner_id == owner.id for c in clashes) else "the candidate"
        raise SchedulingConflict(
            f"That time clashes with another interview of {whose} "
            f"({format_in_zone(clashes[0].starts_at, owner.timezone)}).",
            free_windows(
                owner, application.candidate_id, start, end - start, now=now, exclude_interview_id=exclude_interview_id
            ),
        )


def confirm_interview(
    request: InterviewRequest,
    by_user: User | None,
    *,
    slot_id: int | None = None,
    starts_at: datetime | None = None,
    duration: timedelta | None = None,
    location: str | None = None,
    meeting_link: str | None = None,
    now: datetime | None = None,
    chosen_by: str = "the candidate",
) -> Interview:
    """Confirm one proposed slot (or a free window the owner picked): create the interview, set
    the client status, complete the "Organise interview" task (through the task rules), email
    invitations.
    ``by_user`` is None when the candidate picked the time through their scheduling link, or the
    client accepted an agency-proposed time: ``chosen_by`` names who did, for the timeline."""
    now = to_utc(now or utcnow())
    application = db.session.get_one(Application, request.application_id)
    owner = db.session.get_one(User, application.job.owner_id)
    if slot_id is not None:
        slot = next((s for s in request.proposed_slots if s.id == slot_id), None)
        if slot is None:
            raise ServiceError("Choose one of the proposed times.", field="slot")
        start, end = to_utc(slot.starts_at), to_utc(slot.ends_at)
    elif starts_at is not None:
        start = to_utc(starts_at)
        end = start + (duration or _default_duration(request))
    else:
        raise ServiceError("Choose one of the proposed times.", field="slot")
    if start <= now:
        raise ServiceError("That time has already passed; choose a later one.", field="slot")
    if request.format == "onsite" and not (location or "").strip():
        raise ServiceError("An on-site interview needs a location.", field="location")
    if request.format == "video" and not (meeting_link or "").strip():
        raise ServiceError("A video interview needs a meeting link.", field="meeting_link")

    _lock_people(owner.id, application.candidate_id)
    db.session.refresh(request)
    db.session.refresh(application)
    if request.status != "open":
        raise ServiceError("This interview request is no longer open.", field="slot")
    if not application.is_active:
        raise ServiceError("This candidate's application is closed, so no interview can be booked.", field="slot")
    _refuse_conflicts(owner, application, start, end, now)
    interview = Interview(
        agency_id=application.agency_id,
        application_id=application.id,
        request_id=request.id,
        owner_id=owner.id,
        starts_at=start,
        ends_at=end,
        timezone=zone(owner.timezone).key,
        format=request.format,
        location=(location or "").strip() or None,
        meeting_link=(meeting_link or "").strip() or None,
        ics_uid=f"{uuid.uuid4()}@agency-portal",
        ics_sequence=0,
    )
    try:
        with db.session.begin_nested():
            db.session.add(interview)
    except IntegrityError:
        raise SchedulingConflict(
            "Someone else just booked the job owner at that time.",
            free_windows(owner, application.candidate_id, start, end - start, now=now),
        ) from None
    request.status = "scheduled"
    # A hire already requested stays requested; otherwise the client sees the interview.
    application_status.move(
        application, "interview_scheduled", now=now, allowed_from=("awaiting_review", "interview_requested")
    )
    application.last_activity_at = now
    db.session.flush()
    refresh_inform_by(application, now=now)
    complete_interview_tasks(request.id, by_user, now=now)
    chosen_by = "" if by_user is not None else f" (chosen by {chosen_by})"
    record_for(
        application,
        "interview.scheduled",
        f"Interview scheduled for {format_in_zone(start, owner.timezone)}{chosen_by}",
        actor=by_user,
        client_visible=True,
        now=now,
    )
    db.session.flush()
    _send_invitations(interview, application, request, "REQUEST", by_user, now=now)
    return interview


def _default_duration(request: InterviewRequest) -> timedelta:
    if request.proposed_slots:
        slot = request.proposed_slots[0]
        return to_utc(slot.ends_at) - to_utc(slot.starts_at)
    return timedelta(minutes=60)


def propose_times(
    request: InterviewRequest,
    by_user: User,
    starts: list[datetime],
    duration: timedelta,
    zone_name: str,
    *,
    now: datetime | None = None,
    location: str | None = None,
    meeting_link: str | None = None,
) -> list[ProposedSlot]:
    """Send other times back to the client (counter-proposal); the request stays open. With
    the place (``location`` / ``meeting_link``) the client can accept a time in one tap and the
    interview is confirmed at once."""
    now = to_utc(now or utcnow())
    if request.status != "open":
        raise ServiceError("This interview request is no longer open.", field="starts")
    if not starts:
        raise ServiceError("Propose at least one time.", field="starts")
    if any(to_utc(s) <= now for s in starts):
        raise ServiceError("Proposed times must be in the future.", field="starts")
    if duration <= timedelta(0):
        raise ServiceError("The duration must be positive.", field="duration")
    zone_key = zone(zone_name).key
    slots = [
        ProposedSlot(
            starts_at=to_utc(s),
            ends_at=to_utc(s) + duration,
            timezone=zone_key,
            proposed_by="agency",
            location=(location or "").strip() or None,
            meeting_link=(meeting_link or "").strip() or None,
        )
        for s in starts
    ]
    # Through the relationship, so ``request.proposed_slots`` lists them at once.
    request.proposed_slots.extend(slots)
    application = db.session.get_one(Application, request.application_id)
    record_for(
        application,
        "interview.counter_proposed",
        f"Proposed {len(slots)} other time(s) to the client",
        actor=by_user,
        client_visible=True,
        now=now,
    )
    for contact in _client_recipients(request, application):
        lines = [format_in_zone(s.starts_at, client_zone(contact, request)) for s in slots]
        send_mail(
            contact.agency,
            "interview.counter_proposal",
            contact.email,
            f"Other interview times for {application.candidate.name}",
            "agency_notice",
            greeting=contact.name,
            paragraphs=[
                (
                    f"{by_user.name} proposes these times to interview {application.candidate.name} "
                    f"for {application.job.title}:"
                ),
                *lines,
            ],
            url=absolute_url("client.candidate", slug=contact.agency.slug, application_id=application.id),
            label="Accept a time or ask for others",
        )
    return slots


def reschedule_interview(
    interview: Interview,
    by_user: User,
    starts_at: datetime,
    *,
    duration: timedelta | None = None,
    now: datetime | None = None,
) -> Interview:
    """Move an interview: same UID, higher SEQUENCE, updated invitations to everyone."""
    now = to_utc(now or utcnow())
    if interview.status != "scheduled":
        raise ServiceError("Only a scheduled interview can be moved.", field="starts_at")
    start = to_utc(starts_at)
    if start <= now:
        raise ServiceError("That time has already passed; choose a later one.", field="starts_at")
    end = start + (duration or (to_utc(interview.ends_at) - to_utc(interview.starts_at)))
    application = db.session.get_one(Application, interview.application_id)
    owner = db.session.get_one(User, interview.owner_id)
    _lock_people(owner.id, application.candidate_id)
    _refuse_conflicts(owner, application, start, end, now, exclude_interview_id=interview.id)
    try:
        # A savepoint: losing the race to the unique index undoes the move alone.
        with db.session.begin_nested():
            interview.starts_at, interview.ends_at = start, end
            interview.ics_sequence += 1
    except IntegrityError:
        raise SchedulingConflict("Someone else just booked the job owner at that time.", []) from None
    refresh_inform_by(application, now=now)
    record_for(
        application,
        "interview.rescheduled",
        f"Interview moved to {format_in_zone(start, owner.timezone)}",
        actor=by_user,
        client_visible=True,
        now=now,
    )
    request = db.session.get(InterviewRequest, interview.request_id) if interview.request_id else None
    _send_invitations(interview, application, request, "REQUEST", by_user, now=now)
    return interview


def cancel_interview(interview: Interview, by_user: User, *, now: datetime | None = None) -> Interview:
    """Cancel: METHOD:CANCEL with the same UID and a higher SEQUENCE to everyone. Nothing is
    dropped: the client's request is open again (the client sees "Interview requested"), and the
    job owner gets a "Re-arrange interview" task and an alert."""
    now = to_utc(now or utcnow())
    application, request = _cancel(interview, by_user, "Interview cancelled", now)
    if not application.is_active:
        return interview  # a closed application needs no new interview
    reopened = _reopen_request(request, application)
    application_status.move(
        application,
        "interview_requested" if reopened is not None else "awaiting_review",
        now=now,
        allowed_from=("interview_scheduled",),
    )
    when = format_in_zone(interview.starts_at, db.session.get_one(User, interview.owner_id).timezone)
    task = generate_task(
        application,
        "rearrange_interview",
        f"rearrange_interview:iv{interview.id}:{interview.ics_sequence}",
        interview_request_id=reopened.id if reopened is not None else None,
        now=now,
    )
    alert_job_owner(
        application,
        "interview_cancelled",
        f"The interview with {application.candidate.name} for {application.job.title} on {when} was "
        "cancelled: re-arrange it.",
        f"interview_cancelled:iv{interview.id}:{interview.ics_sequence}",
        now=now,
        task=task,
    )
    return interview


def _cancel(
    interview: Interview, by_user: User | None, summary: str, now: datetime
) -> tuple[Application, InterviewRequest | None]:
    """The cancellation itself: status, SEQUENCE, timeline, and METHOD:CANCEL to every attendee."""
    if interview.status != "scheduled":
        raise ServiceError("This interview is already cancelled.", field="interview")
    application = db.session.get_one(Application, interview.application_id)
    interview.status = "cancelled"
    interview.ics_sequence += 1
    application.last_activity_at = now
    db.session.flush()
    refresh_inform_by(application, now=now)
    record_for(
        application,
        "interview.cancelled",
        summary,
        actor=by_user,
        client_visible=True,
        now=now,
    )
    request = db.session.get(InterviewRequest, interview.request_id) if interview.request_id else None
    _send_invitations(interview, application, request, "CANCEL", by_user, now=now)
    return application, request


def _reopen_request(request: InterviewRequest | None, application: Application) -> InterviewRequest | None:
    """Open the request of a cancelled interview again, unless the client has opened another one
    meanwhile (one open request per application): then that one is the request to serve."""
    already_open = db.session.scalar(
        select(InterviewRequest).where(
            InterviewRequest.application_id == application.id, InterviewRequest.status == "open"
        )
    )
    if already_open is not None or request is None:
        return already_open
    request.status = "open"
    return request


def cancel_interviews_of_rejected(*, now: datetime | None = None, batch_size: int = 50) -> int:
    """The worker's pass over candidates the client rejected: once the reject can no longer be
    undone (UNDO_WINDOW plus its grace), their scheduled interviews are cancelled, with
    cancellation invitations to every attendee, and the requests behind them closed. Within the
    window nothing happens, so an Undo has nothing to restore and nothing is sent. Returns how
    many interviews were cancelled."""
    from .client_actions import UNDO_GRACE, UNDO_WINDOW

    now = to_utc(now or utcnow())
    cutoff = now - (UNDO_WINDOW + UNDO_GRACE)
    due = list(
        db.session.scalars(
            select(Interview)
            .join(Application, Application.id == Interview.application_id)
            .where(
                Interview.status == "scheduled",
                Application.client_status == "rejected_by_client",
                Application.closed_at < cutoff,
            )
            .order_by(Interview.id)
            .limit(batch_size)
            .with_for_update(of=Interview, skip_locked=True)
        )
    )
    for interview in due:
        _cancel_for_closed(interview, None, "Interview cancelled: the client rejected the candidate", now)
    return len(due)


def cancel_scheduled_interviews(
    application: Application, by_user: User | None, summary: str, *, now: datetime | None = None
) -> list[Interview]:
    """The application was closed (the agency rejected the candidate, or they withdrew): each of
    its scheduled interviews is cancelled through the one cancel path (METHOD:CANCEL, same UID,
    higher SEQUENCE, built per recipient) and the request behind it closed. No "Re-arrange
    interview": nobody is to be interviewed. Returns the interviews cancelled."""
    now = to_utc(now or utcnow())
    scheduled = list(
        db.session.scalars(
            select(Interview)
            .where(Interview.application_id == application.id, Interview.status == "scheduled")
            .order_by(Interview.starts_at)
            .with_for_update()
        )
    )
    for interview in scheduled:
        _cancel_for_closed(interview, by_user, summary, now)
    return scheduled


def _cancel_for_closed(interview: Interview, by_user: User | None, summary: str, now: datetime) -> None:
    _, request = _cancel(interview, by_user, summary, now)
    if request is not None and request.status == "scheduled":
        request.status = "cancelled"


def build_ics(
    interview: Interview,
    method: str,
    zone_name: str | None,
    *,
    summary: str,
    description: str,
    organizer: User,
    attendees: list[str],
    now: datetime | None = None,
) -> str:
    """One recipient's invitation: DTSTART/DTEND in their zone (TZID + VTIMEZONE, or UTC)."""
    recipient_zone = zone(zone_name)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Agency Portal//Interviews//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", interview.ics_uid)
    event.add("sequence", interview.ics_sequence)
    event.add("dtstamp", to_utc(now or utcnow()))
    event.add("dtstart", to_utc(interview.starts_at).astimezone(recipient_zone))
    event.add("dtend", to_utc(interview.ends_at).astimezone(recipient_zone))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if interview.location:
        event.add("location", interview.location)
    elif interview.meeting_link:
        event.add("location", interview.meeting_link)
    if interview.meeting_link:
        event.add("url", interview.meeting_link)
    organizer_address = icalendar.vCalAddress(f"mailto:{organizer.email}")
    organizer_address.params["cn"] = icalendar.vText(organizer.name)
    event.add("organizer", organizer_address)
    for address in attendees:
        event.add("attendee", icalendar.vCalAddress(f"mailto:{address}"))
    calendar.add_component(event)
    if recipient_zone.key != "UTC":
        calendar.add_missing_timezones()
    return calendar.to_ical().decode()


# ClientContact.timezone defaults to UTC and no page lets a contact choose it yet, so a stored UTC
# means "never chosen": reading it as the contact's zone would show a New York hiring manager
# London's or Greenwich's times.
UNCHOSEN_CONTACT_ZONES = frozenset({"UTC"})


def client_zone(contact: ClientContact, request: InterviewRequest | None) -> str | None:
    """The zone a client contact reads interview times in: the zone they chose when they asked
    for this interview (their proposal's zone), else their own; a colleague who never chose one
    reads them in the asker's proposal zone, else in their company's zone."""
    if request is not None and request.contact_id == contact.id and request.timezone:
        return request.timezone
    if contact.timezone and (contact.timezone_source is not None or contact.timezone not in UNCHOSEN_CONTACT_ZONES):
        return contact.timezone
    if request is not None and request.timezone:
        return request.timezone
    return company_zone(contact.company_id) or contact.timezone


def company_zone(company_id: int) -> str | None:
    """A client company's zone, as its people use it: the zone most of its contacts chose, else
    the zone of its latest interview request. None when nobody there has ever named one."""
    chosen = db.session.execute(
        select(ClientContact.timezone, db.func.count())
        .where(
            ClientContact.company_id == company_id,
            ClientContact.timezone.is_not(None),
            ClientContact.timezone.not_in(UNCHOSEN_CONTACT_ZONES),
        )
        .group_by(ClientContact.timezone)
        .order_by(db.func.count().desc(), ClientContact.timezone)
        .limit(1)
    ).first()
    if chosen is not None:
        return chosen[0]
    return db.session.scalar(
        select(InterviewRequest.timezone)
        .join(Application, Application.id == InterviewRequest.application_id)
        .join(Job, Job.id == Application.job_id)
        .where(Job.company_id == company_id)
        .order_by(InterviewRequest.id.desc())
        .limit(1)
    )


def _client_recipients(request: InterviewRequest | None, application: Application) -> list[ClientContact]:
    """The contact who asked; without one, every active contact of the client company."""
    if request is not None and request.contact_id:
        contact = db.session.get(ClientContact, request.contact_id)
        if contact is not None and contact.active:
            return [contact]
    return list(
        db.session.scalars(
            select(ClientContact)
            .where(ClientContact.company_id == application.job.company_id, ClientContact.active.is_(True))
            .order_by(ClientContact.id)
        )
    )


def _send_invitations(
    interview: Interview,
    application: Application,
    request: InterviewRequest | None,
    method: str,
    by_user: User | None,
    *,
    now: datetime | None = None,
) -> None:
    """Queue one mail per recipient, each with the times and the ``.ics`` in their own zone."""
    owner = db.session.get_one(User, interview.owner_id)
    candidate = application.candidate
    job = application.job
    recipients: list[tuple[str, str, str | None, str]] = [
        (c.email, c.name, client_zone(c, request), "client") for c in _client_recipients(request, application)
    ]
    if candidate.primary_email:
        recipients.append((candidate.primary_email, candidate.first_name, candidate.timezone, "candidate"))
    recipients.append((owner.email, owner.name, owner.timezone, "owner"))
    attendees = [address for address, *_ in recipients]
    clients = [address for address, _, _, role in recipients if role == "client"]
    # Per recipient: the owner's invitation lists everyone; a client's lists the candidate only
    # when the share lets the client see contact details (C5); the candidate's never lists the
    # client's people, only the candidate and the recruiter who organises it.
    attendees_for = {
        "owner": attendees,
        "client": attendees
        if client_sees_contact_details(application)
        else [address for address in attendees if address != candidate.primary_email],
        "candidate": [address for address in attendees if address not in clients],
    }
    verb = {
        "REQUEST": "Interview confirmed" if interview.ics_sequence == 0 else "Interview updated",
        "CANCEL": "Interview cancelled",
    }[method]
    summary = f"Interview: {candidate.name} for {job.title}"
    where = interview.location or interview.meeting_link or "details to follow"
    for address, name, zone_name, role in recipients:
        when = (
            f"{format_in_zone(interview.starts_at, zone_name)} to "
            f"{to_utc(interview.ends_at).astimezone(zone(zone_name)):%H:%M}"
        )
        ics = build_ics(
            interview,
            method,
            zone_name,
            summary=summary,
            organizer=owner,
            attendees=attendees_for[role],
            description=f"{summary}\n{when}\n{where}",
        )
        paragraphs = [f"{verb}: {summary}.", f"When: {when}.", f"Where: {where}."]
        if method == "CANCEL":
            paragraphs = [
                f"{verb}: {summary}, which was planned for {when}.",
                "We are sorry for the change; we will be in touch.",
            ]
        send_mail(
            owner.agency,
            f"interview.{method.lower()}.{role}",
            address,
            f"{verb}: {job.title}",
            "agency_notice",
            greeting=name,
            paragraphs=paragraphs,
            # The candidate answers the recruiter who owns the job, not a no-reply sender.
            reply_to=owner.email if role == "candidate" else None,
            attachments=[
                {
                    "filename": "invite.ics",
                    "content_type": f"text/calendar; method={method}; charset=UTF-8",
                    "content": ics,
                }
            ],
        )
    record_for(
        application,
        "mail.sent",
        f"{verb}: invitations emailed to {len(recipients)} people",
        actor=by_user,
        recipients=attendees,
        now=now,
    )


SELF_SCHEDULE_SALT = "portal.self-schedule"
SELF_SCHEDULE_DAYS = 7


def _self_schedule_serializer():
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SELF_SCHEDULE_SALT)


def self_schedule_token(
    request: InterviewRequest, *, location: str | None = None, meeting_link: str | None = None
) -> str:
    """A signed, expiring token naming the request and the place the recruiter chose (A8)."""
    return _self_schedule_serializer().dumps({"r": request.id, "l": location or None, "m": meeting_link or None})


@dataclass
class SelfScheduleLink:
    """What a candidate's scheduling link turned out to be: ``state`` is ok, expired or closed."""

    state: str
    request: InterviewRequest
    application: Application
    location: str | None
    meeting_link: str | None


def check_self_schedule_token(agency_id: int, token: str) -> SelfScheduleLink | None:
    """Inspect a link without changing anything; None when it is not one of this agency's.
    Links live ``SELF_SCHEDULE_LINK_DAYS`` (setting, default 7) days."""
    from flask import current_app
    from itsdangerous import BadSignature, SignatureExpired

    max_age_days = current_app.config.get("SELF_SCHEDULE_LINK_DAYS", SELF_SCHEDULE_DAYS)
    serializer = _self_schedule_serializer()
    state = "ok"
    try:
        payload = serializer.loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        state = "expired"
        try:
            payload = serializer.loads(token)
        except BadSignature:
            return None
    except BadSignature:
        return None
    request = db.session.get(InterviewRequest, payload.get("r")) if isinstance(payload, dict) else None
    if request is None or request.agency_id != agency_id:
        return None
    if state == "ok" and request.status != "open":
        state = "closed"
    application = db.session.get_one(Application, request.application_id)
    return SelfScheduleLink(state, request, application, payload.get("l"), payload.get("m"))


def self_schedulable_slots(request: InterviewRequest) -> list[ProposedSlot]:
    """The times a candidate may book through their link: those the client proposed, or the
    agency's that the client accepted (never an agency counter-proposal the client has not)."""
    return [s for s in request.proposed_slots if s.proposed_by == "client" or s.accepted_at is not None]


def send_self_schedule_link(
    request: InterviewRequest, by_user: User, *, location: str | None = None, meeting_link: str | None = None
) -> str:
    """Email the candidate a link to pick one of the client's proposed times in their own zone.
    The place is fixed now, so the candidate only chooses the time. Returns the URL."""
    location, meeting_link = (location or "").strip() or None, (meeting_link or "").strip() or None
    if request.status != "open":
        raise ServiceError("This interview request is no longer open.", field="slot")
    if request.format == "onsite" and not location:
        raise ServiceError("An on-site interview needs a location.", field="location")
    if request.format == "video" and not meeting_link:
        raise ServiceError("A video interview needs a meeting link.", field="meeting_link")
    application = db.session.get_one(Application, request.application_id)
    candidate = application.candidate
    if not candidate.primary_email:
        raise ServiceError(f"{candidate.name} has no email address.", field="slot")
    url = absolute_url(
        "schedule.show",
        slug=by_user.agency.slug,
        schedule_token=self_schedule_token(request, location=location, meeting_link=meeting_link),
    )
    send_mail(
        by_user.agency,
        "interview.self_schedule",
        candidate.primary_email,
        f"Choose your interview time: {application.job.title}",
        "agency_notice",
        greeting=candidate.first_name,
        paragraphs=[
            (
                f"{application.job.company.name} would like to interview you for {application.job.title}. "
                f"Please choose the time that suits you (times shown in "
                f"{zone(candidate.timezone).key}). The link works for {SELF_SCHEDULE_DAYS} days."
            )
        ],
        items=[format_in_zone(s.starts_at, candidate.timezone) for s in self_schedulable_slots(request)],
        url=url,
        label="Choose a time",
        reply_to=application.job.owner.email,
    )
    record_for(
        application,
        "interview.self_schedule_sent",
        f"Sent {candidate.name} a link to choose the interview time",
        actor=by_user,
    )
    return url
