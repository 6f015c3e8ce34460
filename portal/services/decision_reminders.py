"""Getting decisions out of the client (issue 15): reminder e-mails to contacts around a share's
"please decide by", and the job owner's "Chase client feedback" task once it has passed.

The schedule, for a share still awaiting review whose due day (in the job owner's zone) is D:

- each contact of the client who may see it is reminded on the working day before D and on the
  first working day after D (once the deadline has passed), both days read in the contact's own
  zone; a reminder is a digest of everything awaiting their review across their company's jobs,
  and a contact gets at most one a day (the key names their local date);
- the job owner is given a "Chase client feedback" task and an alert on the first working day
  after D plus the agency's grace (working days), read in the owner's zone; once per share.

Deciding (reject, interview request, hire request) takes the share out of both at once: only
shares whose application is still ``awaiting_review`` count. Both steps run in every scheduled
pass (``portal.services.scheduled``), each contact and each share in its own unit of work.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Agency, Application, ClientContact, Job, SharedProfile, Task, User, as_utc, utcnow
from ..scoping import shared_applications_query
from ..unit_of_work import unit_of_work
from . import ServiceError
from .alerts import alert_job_owner
from .auth import landing_link
from .client_actions import client_facing_name
from .interviews import client_zone, format_in_zone
from .mail import absolute_url, send_mail
from .scheduled import once, scheduled_step
from .tasks import generate_task
from .working_days import (
    add_working_days,
    agency_holidays,
    is_working_day,
    local_date,
    next_working_day,
    previous_working_day,
    start_of_day,
)

UNSUBSCRIBE_SALT = "portal.reminders-unsubscribe"
REMINDER_CHOICES = {"on": "On", "snoozed": "Snoozed until a date", "off": "Off"}
# How far around "now" a due date can lie and still call for a reminder today: the working day
# before or after it, across the longest run of holidays an agency plausibly lists.
REMINDER_WINDOW = timedelta(days=40)
MAX_SNOOZE_DAYS = 365
AWAITING = "awaiting_review"


@dataclass(frozen=True)
class ReminderItem:
    """One candidate in a contact's reminder: how they see the name, the job, the deadline in their
    zone, whether it has passed, and a link straight to the candidate."""

    name: str
    job_title: str
    due: str
    overdue: bool
    url: str


# Preferences ---------------------------------------------------------------------------------


def set_reminder_preference(
    contact: ClientContact, choice: str, snoozed_until: date | None = None, *, now: datetime | None = None
) -> ClientContact:
    """Reminder e-mails "on", "snoozed" until ``snoozed_until`` (a date in the contact's zone: they
    start again that day) or "off"."""
    if choice not in REMINDER_CHOICES:
        raise ServiceError("Choose on, snoozed or off.", field="reminders")
    if choice == "snoozed":
        today = local_date(as_utc(now or utcnow()), client_zone(contact, None))
        if snoozed_until is None:
            raise ServiceError("Choose the date reminders start again.", field="snoozed_until")
        if not today < snoozed_until <= today + timedelta(days=MAX_SNOOZE_DAYS):
            raise ServiceError(f"Choose a date after today and within {MAX_SNOOZE_DAYS} days.", field="snoozed_until")
    contact.reminders = choice
    contact.reminders_snoozed_until = snoozed_until if choice == "snoozed" else None
    return contact


def reminders_paused(contact: ClientContact, today: date) -> bool:
    """Whether the contact asked for no reminders on ``today`` (their local date)."""
    if contact.reminders == "off":
        return True
    return contact.reminders == "snoozed" and (
        contact.reminders_snoozed_until is None or today < contact.reminders_snoozed_until
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(contact: ClientContact) -> str:
    """The one-click unsubscribe link of a contact's reminders (a GET asks, a POST acts)."""
    token = _serializer().dumps({"c": contact.id, "a": contact.agency_id})
    return absolute_url("auth.reminders_unsubscribe", slug=contact.agency.slug, unsubscribe_token=token)


def contact_for_unsubscribe(agency: Agency, token: str) -> ClientContact | None:
    """The contact an unsubscribe link names, or None when it is forged or another agency's."""
    try:
        payload = _serializer().loads(token)
        contact_id, agency_id = int(payload["c"]), int(payload["a"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if agency_id != agency.id:
        return None
    contact = db.session.get(ClientContact, contact_id)
    return contact if contact is not None and contact.agency_id == agency.id else None


def unsubscribe(contact: ClientContact) -> ClientContact:
    """Turn the contact's reminder e-mails off (they can turn them on again in their settings)."""
    return set_reminder_preference(contact, "off")


# What awaits a contact -----------------------------------------------------------------------


def awaiting_review(contact: ClientContact) -> list[Application]:
    """Candidates shared with the contact's company, still awaiting its decision, by deadline."""
    return list(
        db.session.scalars(
            shared_applications_query(contact)
            .where(Application.client_status == AWAITING, Application.outcome.is_(None))
            .options(selectinload(Application.shared_profile), selectinload(Application.job).selectinload(Job.owner))
            .order_by(SharedProfile.feedback_due_at.is_(None), SharedProfile.feedback_due_at, Application.id)
        )
    )


def due_day(profile: SharedProfile, owner: User) -> date | None:
    """The working day a share is due on, in the job owner's zone (where its deadline was set)."""
    return local_date(as_utc(profile.feedback_due_at), owner.timezone) if profile.feedback_due_at else None


def calls_for_reminder(application: Application, today: date, now: datetime, holidays: frozenset[date]) -> bool:
    """Whether the share asks for a reminder on the contact's ``today``: the working day before its
    due day, or the first working day after it once the deadline has passed."""
    profile = application.shared_profile
    if profile is None or profile.feedback_due_at is None:
        return False
    day = local_date(as_utc(profile.feedback_due_at), application.job.owner.timezone)
    if today == previous_working_day(day, holidays):
        return True
    return today == next_working_day(day, holidays) and now > as_utc(profile.feedback_due_at)


def reminder_items(contact: ClientContact, applications: list[Application], now: datetime) -> list[ReminderItem]:
    """The digest's lines for ``contact``: every candidate awaiting their review, with a link each."""
    zone = client_zone(contact, None)
    items = []
    for application in applications:
        profile = application.shared_profile
        due_at = as_utc(profile.feedback_due_at) if profile and profile.feedback_due_at else None
        link = landing_link(contact, application.job) + f"?to={application.id}"
        items.append(
            ReminderItem(
                name=client_facing_name(application),
                job_title=application.job.title,
                due=format_in_zone(due_at, zone) if due_at else "",
                overdue=due_at is not None and now > due_at,
                url=link,
            )
        )
    return items


def send_reminder(contact: ClientContact, items: list[ReminderItem]) -> None:
    """Queue the branded reminder digest for one contact."""
    overdue = sum(item.overdue for item in items)
    subject = f"{len(items)} candidate(s) awaiting your decision"
    if overdue:
        subject += f", {overdue} past the date"
    send_mail(
        contact.agency,
        "client.decision_reminder",
        contact.email,
        subject,
        "decision_reminder",
        greeting=contact.name,
        items=items,
        settings_url=absolute_url("client.settings", slug=contact.agency.slug),
        unsubscribe_url=unsubscribe_url(contact),
    )


def _contacts_to_consider(now: datetime) -> list[int]:
    """Active contacts of companies with a share awaiting review whose deadline is near ``now``."""
    near = and_(
        SharedProfile.feedback_due_at >= now - REMINDER_WINDOW, SharedProfile.feedback_due_at <= now + REMINDER_WINDOW
    )
    has_near_share = exists().where(
        Job.company_id == ClientContact.company_id,
        Job.agency_id == ClientContact.agency_id,
        Application.job_id == Job.id,
        SharedProfile.application_id == Application.id,
        SharedProfile.unshared_at.is_(None),
        Application.client_status == AWAITING,
        Application.outcome.is_(None),
        near,
    )
    query = select(ClientContact.id).where(ClientContact.active.is_(True), has_near_share).order_by(ClientContact.id)
    return list(db.session.scalars(query))


def reminder_state(contact: ClientContact, now: datetime, holidays: frozenset[date]) -> tuple[str | None, list]:
    """Whether the contact is to be reminded at ``now``: ``(None, [])`` when nothing calls for it
    today, ``("snoozed" | "unsubscribed", [])`` when something does but they asked for none, else
    ``("due", applications)`` with everything awaiting their review."""
    today = local_date(now, client_zone(contact, None))
    if not is_working_day(today, holidays):
        return None, []
    applications = awaiting_review(contact)
    if not any(calls_for_reminder(a, today, now, holidays) for a in applications):
        return None, []
    if reminders_paused(contact, today):
        return ("unsubscribed" if contact.reminders == "off" else "snoozed"), []
    return "due", applications


@scheduled_step("client reminders")
def send_reminders(now: datetime) -> dict[str, int]:
    """Remind each contact, at most once a day, of what awaits their decision (see the module).
    Deciding whom to remind only reads; the write lock is taken for a reminder actually due, and
    everything is checked again under it."""
    now = as_utc(now)
    report = {"sent": 0, "snoozed": 0, "unsubscribed": 0, "already sent today": 0}
    holidays: dict[int, frozenset[date]] = {}
    for contact_id in _contacts_to_consider(now):
        contact = db.session.get_one(ClientContact, contact_id)
        calendar = holidays.setdefault(contact.agency_id, agency_holidays(contact.agency_id))
        state, _ = reminder_state(contact, now, calendar)
        if state in ("snoozed", "unsubscribed"):
            report[state] += 1
        if state != "due":
            continue
        with unit_of_work():
            db.session.expire_all()  # read again under the lock: the check above may be stale
            contact = db.session.get_one(ClientContact, contact_id)
            state, applications = reminder_state(contact, now, calendar)
            if state != "due":
                continue  # decided, snoozed or unshared a moment ago
            today = local_date(now, client_zone(contact, None))
            if not once(contact.agency_id, f"reminder:contact:{contact.id}:{today.isoformat()}", now):
                report["already sent today"] += 1
                continue
            send_reminder(contact, reminder_items(contact, applications, now))
            report["sent"] += 1
    return report


# Escalation ----------------------------------------------------------------------------------


def chase_day(profile: SharedProfile, owner: User, grace_days: int, holidays: frozenset[date]) -> date | None:
    """The working day (in the owner's zone) the owner is asked to chase: the first after the due
    day plus ``grace_days`` working days."""
    day = due_day(profile, owner)
    return next_working_day(add_working_days(day, grace_days, holidays), holidays) if day else None


def _overdue_shares(now: datetime) -> list[int]:
    """Shares past their deadline, still awaiting review and never chased."""
    chased = exists().where(Task.application_id == Application.id, Task.type == "chase_feedback")
    query = (
        select(SharedProfile.id)
        .join(Application, Application.id == SharedProfile.application_id)
        .where(
            SharedProfile.unshared_at.is_(None),
            SharedProfile.feedback_due_at < now,
            Application.client_status == AWAITING,
            Application.outcome.is_(None),
            ~chased,
        )
        .order_by(SharedProfile.id)
    )
    return list(db.session.scalars(query))


def chase_is_due(profile: SharedProfile, now: datetime, holidays: frozenset[date]) -> bool:
    """Whether the job owner is to be asked to chase the share at ``now``: still awaiting review,
    still shared, and the chase day (in the owner's zone) has begun."""
    application = profile.application
    if application.client_status != AWAITING or application.outcome is not None or profile.unshared_at is not None:
        return False
    agency = db.session.get_one(Agency, profile.agency_id)
    owner = application.job.owner
    day = chase_day(profile, owner, agency.feedback_chase_grace_days, holidays)
    return day is not None and now >= start_of_day(day, owner.timezone)


@scheduled_step("chase client feedback")
def chase_overdue(now: datetime) -> dict[str, int]:
    """Give the job owner a "Chase client feedback" task and an alert for each share left
    undecided past its deadline and the agency's grace, once per share (a share shown again
    after an unshare gets a new deadline and new reminders, but is not chased twice)."""
    now = as_utc(now)
    report = {"tasks": 0, "waiting for grace": 0}
    holidays: dict[int, frozenset[date]] = {}
    for profile_id in _overdue_shares(now):
        profile = db.session.get_one(SharedProfile, profile_id)
        calendar = holidays.setdefault(profile.agency_id, agency_holidays(profile.agency_id))
        if not chase_is_due(profile, now, calendar):
            report["waiting for grace"] += 1
            continue
        with unit_of_work():
            db.session.expire_all()  # read again under the lock: the check above may be stale
            profile = db.session.get_one(SharedProfile, profile_id)
            if not chase_is_due(profile, now, calendar):
                continue  # decided or unshared a moment ago
            if not once(profile.agency_id, f"chase:share:{profile.id}", now):
                continue
            application = profile.application
            task = generate_task(application, "chase_feedback", f"chase_feedback:share{profile.id}", now=now)
            owner = application.job.owner
            due = format_in_zone(as_utc(profile.feedback_due_at or now), owner.timezone)
            alert_job_owner(
                application,
                "chase_feedback",
                f"{application.job.company.name} has not decided on {application.candidate.name} for "
                f"{application.job.title} (due {due}): chase them.",
                f"chase:share:{profile.id}",
                now=now,
                task=task,
            )
            report["tasks"] += 1
    return report
