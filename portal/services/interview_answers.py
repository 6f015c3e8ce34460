"""The answers to a proposal of interview times (issue 13, item 4): the client accepts one of the
agency's counter-proposed times in one tap or asks for others, asks for a further round once an
interview is booked; the candidate asks for other times from their scheduling link. And how the
client and the recruiter see the times: the client's interview section, free times suggested after
a clash in both the owner's and the asker's zones with the asker's out-of-hours times flagged.

Accepting goes through :func:`interviews.confirm_interview`, the one confirm path: the same
invitations, the same serialisation per owner and candidate (the unit of work's ``BEGIN
IMMEDIATE`` on SQLite, row locks on PostgreSQL) and the same conflict rules.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Activity, Application, ClientContact, Interview, InterviewRequest, ProposedSlot, User, utcnow
from . import ServiceError
from .activity import record_for
from .alerts import alert_job_owner
from .client_actions import (
    SlotInput,
    check_format_and_zone,
    check_proposed_times,
    ensure_actionable,
    open_interview_request,
    open_request,
)
from .interviews import (
    WORKDAY_END,
    WORKDAY_START,
    SchedulingConflict,
    SelfScheduleLink,
    client_zone,
    confirm_interview,
    format_in_zone,
    to_utc,
    zone,
)
from .tasks import organise_interview_task, task_for_interview_request

TAKEN = "That time was taken a moment ago, so nothing was booked. Accept another time or ask for other times."


@dataclass
class OfferedTime:
    """An agency-proposed time as one client contact reads it: in their zone, zone named."""

    slot: ProposedSlot
    label: str
    start: datetime
    end: datetime


@dataclass
class BookedInterview:
    """A scheduled interview as one client contact reads it: ``when`` in their zone, zone named."""

    interview: Interview
    when: str
    zone_name: str


@dataclass
class ClientInterviewView:
    """What the client's candidate page shows under "Interview"."""

    zone_name: str
    scheduled: list[BookedInterview] = field(default_factory=list)
    open_request: InterviewRequest | None = None
    offered: list[OfferedTime] = field(default_factory=list)
    accepted_waiting: list[OfferedTime] = field(default_factory=list)
    can_request_further_round: bool = False


def _scheduled(application: Application) -> list[Interview]:
    return list(
        db.session.scalars(
            select(Interview)
            .where(Interview.application_id == application.id, Interview.status == "scheduled")
            .order_by(Interview.starts_at)
        )
    )


def _offered_time(slot: ProposedSlot, zone_name: str) -> OfferedTime:
    start = to_utc(slot.starts_at).astimezone(zone(zone_name))
    end = to_utc(slot.ends_at).astimezone(zone(zone_name))
    return OfferedTime(slot, format_in_zone(slot.starts_at, zone_name), start, end)


def client_interview_view(
    contact: ClientContact, application: Application, *, now: datetime | None = None
) -> ClientInterviewView:
    """The scheduled interviews, the agency's proposed times still on offer (future, not yet
    accepted) and whether a further round may be asked for, in the contact's zone."""
    now = to_utc(now or utcnow())
    request = open_request(application)
    zone_name = zone(client_zone(contact, request)).key
    scheduled = []
    for interview in _scheduled(application):
        # The zone the contact chose when they asked for this interview, as in their invitation.
        asked = db.session.get(InterviewRequest, interview.request_id) if interview.request_id else None
        booked_zone = zone(client_zone(contact, asked)).key
        end = to_utc(interview.ends_at).astimezone(zone(booked_zone))
        scheduled.append(
            BookedInterview(
                interview, f"{format_in_zone(interview.starts_at, booked_zone)} to {end:%H:%M}", booked_zone
            )
        )
    view = ClientInterviewView(zone_name=zone_name, scheduled=scheduled, open_request=request)
    if request is not None:
        for slot in request.proposed_slots:
            if slot.proposed_by != "agency" or to_utc(slot.starts_at) <= now:
                continue
            bucket = view.offered if slot.accepted_at is None else view.accepted_waiting
            bucket.append(_offered_time(slot, zone_name))
    view.can_request_further_round = is_further_round(application)
    return view


def is_further_round(application: Application) -> bool:
    """True when the candidate has a booked interview and no open request: a new request for
    the same application is a further round."""
    return (
        application.client_status == "interview_scheduled"
        and application.is_active
        and open_request(application) is None
        and bool(_scheduled(application))
    )


def _offered_slot(application: Application, slot_id: int) -> tuple[InterviewRequest, ProposedSlot]:
    request = open_request(application)
    slot = None
    if request is not None:
        slot = next((s for s in request.proposed_slots if s.id == slot_id and s.proposed_by == "agency"), None)
    if request is None or slot is None:
        raise ServiceError("That time is no longer on offer; the page shows the times that are.", field="slot")
    return request, slot


def accept_proposed_time(
    contact: ClientContact, application: Application, slot_id: int, *, now: datetime | None = None
) -> Interview | None:
    """The client accepts one of the agency's proposed times (one tap). With the place known,
    the interview is confirmed at once through the usual confirm path (invitations to everyone);
    a time already taken is refused with :data:`TAKEN`. Without a place (an on-site or video
    proposal sent without one) the time is marked accepted and the job owner is alerted to
    confirm it: None is returned."""
    now = to_utc(now or utcnow())
    ensure_actionable(application)
    request, slot = _offered_slot(application, slot_id)
    if to_utc(slot.starts_at) <= now:
        raise ServiceError("That time has already passed; accept a later one or ask for other times.", field="slot")
    slot.accepted_at = now
    db.session.flush()  # confirm_interview refreshes the request: the acceptance must be written
    when = format_in_zone(slot.starts_at, request_owner_zone(application))
    needs_place = (request.format == "onsite" and not slot.location) or (
        request.format == "video" and not slot.meeting_link
    )
    if needs_place:
        record_for(
            application,
            "client.time_accepted",
            f"{contact.name} accepted {when}; confirm it with the place",
            actor=contact,
            client_visible=True,
            request_id=request.id,
            now=now,
        )
        alert_job_owner(
            application,
            "time_accepted",
            f"{contact.name} accepted {when} to interview {application.candidate.name}: confirm it with the place.",
            f"time_accepted:slot{slot.id}",
            now=now,
            task=task_for_interview_request(request.id),  # the request's organise task: confirm there
        )
        return None
    try:
        interview = confirm_interview(
            request,
            None,
            slot_id=slot.id,
            location=slot.location,
            meeting_link=slot.meeting_link,
            now=now,
            chosen_by=f"{contact.name} ({contact.company.name})",
        )
    except SchedulingConflict:
        raise ServiceError(TAKEN, field="slot") from None
    record_for(
        application,
        "client.time_accepted",
        f"{contact.name} accepted {when}",
        actor=contact,
        client_visible=True,
        request_id=request.id,
        interview_id=interview.id,
        now=now,
    )
    return interview


def request_owner_zone(application: Application) -> str:
    """The job owner's zone: the recruiter reads alerts and the timeline in it."""
    return zone(application.job.owner.timezone).key


def ask_for_other_times(
    contact: ClientContact, application: Application, note: str = "", *, now: datetime | None = None
) -> InterviewRequest:
    """ "None of these work": the agency's proposed times not accepted are withdrawn from the
    offer, and the job owner gets the "Organise interview" task (the request's own, kept open) and
    an alert with the client's note. A repeat (double click) finds nothing left to decline."""
    now = to_utc(now or utcnow())
    ensure_actionable(application)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ServiceError("Keep the note under 2,000 characters.", field="note")
    request = open_request(application)
    declined = (
        [s for s in request.proposed_slots if s.proposed_by == "agency" and s.accepted_at is None] if request else []
    )
    if request is None or not declined:
        raise ServiceError("There are no proposed times to decline; the page shows where things stand.")
    owner_zone = request_owner_zone(application)
    times = ", ".join(format_in_zone(s.starts_at, owner_zone) for s in declined)
    key = f"other_times:req{request.id}:slot{max(s.id for s in declined)}"
    for slot in declined:
        request.proposed_slots.remove(slot)
    task = organise_interview_task(application, request.id, now=now)
    said = f' They wrote: "{note}"' if note else ""
    alert_job_owner(
        application,
        "other_times_requested",
        f"{contact.name} can't make any of the times proposed to interview {application.candidate.name}; "
        f"propose others.{said}",
        key,
        now=now,
        task=task,
    )
    record_for(
        application,
        "client.other_times_requested",
        f"{contact.name} asked for other interview times (declined {times})" + (f': "{note}"' if note else ""),
        actor=contact,
        client_visible=True,
        request_id=request.id,
        note=note,
        declined=[
            {"starts_at": to_utc(s.starts_at).isoformat(), "ends_at": to_utc(s.ends_at).isoformat()} for s in declined
        ],
        now=now,
    )
    return request


@dataclass
class DeclinedTime:
    """A time the agency proposed and the client declined, in the owner's zone and the asker's."""

    start: datetime
    end: datetime
    owner_label: str
    asker_label: str


def declined_times(request: InterviewRequest) -> list[DeclinedTime]:
    """The agency's times the client declined ("None of these work") on this request, in the
    order they were declined: the recruiter's task lists them so they are not proposed again."""
    owner_zone = request_owner_zone(db.session.get_one(Application, request.application_id))
    entries = db.session.scalars(
        select(Activity)
        .where(Activity.application_id == request.application_id, Activity.verb == "client.other_times_requested")
        .order_by(Activity.id)
    )
    found = []
    for entry in entries:
        if (entry.detail or {}).get("request_id") != request.id:
            continue
        for item in entry.detail.get("declined") or []:
            start, end = (
                to_utc(datetime.fromisoformat(item["starts_at"])),
                to_utc(datetime.fromisoformat(item["ends_at"])),
            )
            found.append(
                DeclinedTime(start, end, format_in_zone(start, owner_zone), format_in_zone(start, request.timezone))
            )
    return found


def candidate_asks_for_other_times(link: SelfScheduleLink, note: str = "", *, now: datetime | None = None) -> None:
    """The candidate's "None of these work" from their scheduling link: the job owner is alerted
    (once per request) with the candidate's note, and the timeline says so."""
    now = to_utc(now or utcnow())
    if link.state != "ok":
        raise ServiceError("This link can no longer be used.")
    note = (note or "").strip()
    if len(note) > 2000:
        raise ServiceError("Keep the note under 2,000 characters.", field="note")
    application = link.application
    candidate = application.candidate
    said = f' They wrote: "{note}"' if note else ""
    alert_job_owner(
        application,
        "candidate_other_times",
        f"{candidate.name} can't make any of the offered interview times for {application.job.title}.{said}",
        f"candidate_other_times:req{link.request.id}",
        now=now,
        task=task_for_interview_request(link.request.id),
    )
    record_for(
        application,
        "candidate.other_times_requested",
        f"{candidate.name} asked for other interview times through their scheduling link"
        + (f': "{note}"' if note else ""),
        request_id=link.request.id,
        note=note,
        now=now,
    )


def request_further_round(
    contact: ClientContact,
    application: Application,
    *,
    interview_format: str,
    timezone_name: str,
    slots: list[SlotInput],
    notes: str = "",
    now: datetime | None = None,
) -> InterviewRequest:
    """A further round: a new interview request for an application whose interview is booked.
    The booked interview stays; the job owner gets an "Organise interview" task and an alert."""
    now = to_utc(now or utcnow())
    ensure_actionable(application)
    chosen_zone = check_format_and_zone(interview_format, timezone_name)
    existing = open_request(application)
    if existing is not None:
        return existing  # a repeat (double submit, second tab, another contact)
    if not is_further_round(application):
        raise ServiceError("A further round can be asked for once an interview is booked.")
    proposed = check_proposed_times(slots, chosen_zone, notes, now)
    return open_interview_request(
        contact,
        application,
        interview_format=interview_format,
        zone=chosen_zone,
        proposed=proposed,
        notes=notes,
        now=now,
        further_round=True,
    )


@dataclass
class SuggestionInZones:
    """A free start time suggested after a clash, in the owner's zone and the asker's."""

    start: datetime
    owner_label: str
    asker_label: str
    out_of_hours: bool


def suggestions_in_zones(
    suggestions: list[datetime], owner_zone: str | None, asker_zone: str | None
) -> list[SuggestionInZones]:
    """Each suggested time in both zones; ``out_of_hours`` when it falls outside Mon–Fri
    09:00–18:00 for the asker (the owner's hours are already respected by ``free_windows``)."""
    views = []
    for start in suggestions:
        local = to_utc(start).astimezone(zone(asker_zone))
        out_of_hours = local.weekday() >= 5 or not (WORKDAY_START <= local.time() < WORKDAY_END)
        views.append(
            SuggestionInZones(start, format_in_zone(start, owner_zone), format_in_zone(start, asker_zone), out_of_hours)
        )
    return views


def asker_zone(request: InterviewRequest | None) -> str | None:
    """The zone of whoever asked for the interview: the zone of their request."""
    return request.timezone if request is not None else None


def interview_zones(interview: Interview) -> tuple[str, str | None]:
    """The owner's zone and the zone of whoever asked for ``interview`` (None without a request):
    the two zones suggestions after a clash are shown in."""
    owner = db.session.get_one(User, interview.owner_id)
    request = db.session.get(InterviewRequest, interview.request_id) if interview.request_id else None
    return zone(owner.timezone).key, asker_zone(request)


def interview_candidate_id(interview: Interview) -> int:
    """The candidate an interview is with (their agency page is where its card lives)."""
    return db.session.get_one(Application, interview.application_id).candidate_id
