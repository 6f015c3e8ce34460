"""Retention (issue 16): people the agency has not been in touch with for the agency's
``retention_months`` are asked, once, whether to keep their details; "delete", or no answer
within ``retention_answer_days``, anonymises them (``erasure.erase_candidate``). Candidates with an
open application are never touched.

A person's last activity is the latest of: when they were added, their applications' last
activity, the agency's notes about them, their consent records (asked or answered), their
timeline entries and their last "keep" answer. An ask counts for the inactivity it was sent
for: any activity after it starts the clock again. The ask is a branded mail with a scanner-safe
link (GET shows the page, a POST answers); the scheduled step is keyed with ``once`` so two
workers ask and anonymise once.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Activity, Agency, Application, Candidate, ConsentRecord, Note, User, as_utc, utcnow
from ..unit_of_work import unit_of_work
from . import ServiceError
from .audit import record_audit
from .erasure import erase_candidate
from .mail import absolute_url, send_mail
from .scheduled import once, scheduled_step

log = logging.getLogger(__name__)
SALT = "retention-answer"
ASK, ANONYMISE, WAITING = "ask", "anonymise", "waiting"
ACTIONS = (ASK, WAITING, ANONYMISE)


@dataclass(frozen=True)
class RetentionCase:
    """One person the policy reaches at ``now``: asked, waiting for an answer, or anonymised."""

    candidate_id: int
    name: str
    last_activity_at: datetime
    action: str  # ASK, WAITING or ANONYMISE
    asked_at: datetime | None = None
    has_email: bool = True


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day if shorter)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _latest(*moments: datetime | None) -> datetime:
    return max(as_utc(m) for m in moments if m is not None)


def cases(agency: Agency, now: datetime | None = None, *, candidate_id: int | None = None) -> list[RetentionCase]:
    """Who the policy reaches at ``now`` (whether or not it is switched on: the dry run); only
    ``candidate_id`` when given (the step checks again inside the unit of work that acts)."""
    now = as_utc(now or utcnow())
    cutoff = months_before(now, agency.retention_months)
    answer_window = timedelta(days=agency.retention_answer_days)

    def latest(column, key):
        return select(func.max(column)).where(key == Candidate.id).correlate(Candidate).scalar_subquery()

    open_application = select(Application.id).where(
        Application.candidate_id == Candidate.id, Application.outcome.is_(None)
    )
    rows = db.session.execute(
        select(
            Candidate,
            latest(Application.last_activity_at, Application.candidate_id),
            latest(Note.created_at, Note.candidate_id),
            latest(ConsentRecord.given_at, ConsentRecord.candidate_id),
            latest(ConsentRecord.requested_at, ConsentRecord.candidate_id),
            # Their timeline: an edit, a status update, a mail sent them by the agency.
            latest(Activity.created_at, Activity.candidate_id),
        )
        .options(selectinload(Candidate.emails))
        .where(Candidate.agency_id == agency.id, Candidate.erased_at.is_(None), ~open_application.exists())
        # Activity is never older than the person: only those added before the cut-off, or asked
        # already, can be reached (most of a large agency is skipped by the database).
        .where(or_(Candidate.created_at <= cutoff, Candidate.retention_asked_at.is_not(None)))
        .where(Candidate.id == candidate_id if candidate_id is not None else Candidate.id.is_not(None))
        .order_by(Candidate.id)
    ).all()
    found = []
    for candidate, *moments in rows:
        last = _latest(candidate.created_at, candidate.retention_kept_at, *(_utc(m) for m in moments))
        asked = as_utc(candidate.retention_asked_at) if candidate.retention_asked_at else None
        if asked is not None and asked >= last:
            action = ANONYMISE if now >= asked + answer_window else WAITING
        elif last <= cutoff:
            action = ASK
        else:
            continue
        found.append(RetentionCase(candidate.id, candidate.name, last, action, asked, bool(candidate.emails)))
    return found


def _utc(moment) -> datetime | None:
    # Aggregates bypass the column type on SQLite (a string comes back): read it as UTC.
    if moment is None or isinstance(moment, datetime):
        return moment
    return datetime.fromisoformat(str(moment))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def answer_token(candidate: Candidate) -> str:
    """The signed token of the person's keep/delete link (their row, agency and the ask it answers)."""
    assert candidate.retention_asked_at is not None
    asked = int(as_utc(candidate.retention_asked_at).timestamp())
    return str(_serializer().dumps({"c": candidate.id, "a": candidate.agency_id, "t": asked}))


def check_answer_link(agency_id: int, token: str) -> Candidate | None:
    """The person a keep/delete link is for, or None (forged, foreign, replaced, or erased)."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != agency_id or not isinstance(payload.get("c"), int):
        return None
    candidate = db.session.get(Candidate, payload["c"])
    if candidate is None or candidate.agency_id != agency_id or candidate.erased_at is not None:
        return None
    asked = candidate.retention_asked_at
    if asked is None or int(as_utc(asked).timestamp()) != payload.get("t"):
        return None
    return candidate


def answer(candidate: Candidate, choice: str, now: datetime | None = None) -> str:
    """The person's answer through their link: "keep" starts their clock again; "delete"
    anonymises them at once. Returns the choice."""
    now = as_utc(now or utcnow())
    if choice == "keep":
        candidate.retention_kept_at = now
        return choice
    if choice == "delete":
        erase_candidate(candidate, None, now=now, action="candidate_anonymised")
        return choice
    raise ServiceError("Choose to keep or to delete your details.", field="answer")


def _ask(agency: Agency, candidate: Candidate, now: datetime) -> bool:
    """Record the ask and mail the link (a person without an address is only recorded: no answer
    can come, so they are anonymised when the answer period ends). True when a mail was queued."""
    candidate.retention_asked_at = now
    db.session.flush()
    address = candidate.primary_email
    if not address:
        return False
    send_mail(
        agency,
        "candidate.retention_check",
        address,
        f"Shall {agency.title} keep your details?",
        "agency_notice",
        greeting=candidate.first_name,
        paragraphs=[
            f"{agency.title} has kept your details since you were last in touch about a job.",
            (
                "We only keep them while you want us to. The page behind the button lets you keep them "
                f"or have them deleted with one tap. If we hear nothing within {agency.retention_answer_days} days, "
                "we will delete them."
            ),
        ],
        url=absolute_url("retention.show", slug=agency.slug, retention_token=answer_token(candidate)),
        label="Keep or delete my details",
    )
    return True


@scheduled_step("retention", group="retention")
def retention_step(now: datetime) -> dict[str, int]:
    """Ask and anonymise, for every agency whose policy is on; one unit of work per person."""
    report = {"asked": 0, "anonymised": 0}
    agency_ids = list(db.session.scalars(select(Agency.id).where(Agency.retention_enabled.is_(True))))
    for agency_id in agency_ids:
        due = [c.candidate_id for c in cases(db.session.get_one(Agency, agency_id), now) if c.action != WAITING]
        for candidate_id in due:
            with unit_of_work():
                # Again inside the unit that acts: an application opened meanwhile spares the person.
                agency = db.session.get_one(Agency, agency_id)
                found = cases(agency, now, candidate_id=candidate_id)
                if not agency.retention_enabled or not found or found[0].action == WAITING:
                    continue
                case = found[0]
                candidate = db.session.get_one(Candidate, candidate_id)
                if case.action == ASK:
                    key = f"retention:ask:{case.candidate_id}:{int(case.last_activity_at.timestamp())}"
                    if once(agency_id, key, now):
                        _ask(agency, candidate, now)
                        report["asked"] += 1
                elif once(agency_id, f"retention:anonymise:{case.candidate_id}", now):
                    erase_candidate(candidate, None, now=now, action="candidate_anonymised")
                    report["anonymised"] += 1
    return report


@dataclass(frozen=True)
class RetentionPolicy:
    """The admin settings form's values."""

    enabled: bool
    months: int
    answer_days: int


def update_policy(agency: Agency, by_user: User, policy: RetentionPolicy, now: datetime | None = None) -> None:
    """Save the agency's policy (an admin's), in the audit log as ``retention_changed``."""
    if not by_user.is_admin or by_user.agency_id != agency.id:
        raise ServiceError("Only an admin can change the retention policy.")
    if not 1 <= policy.months <= 240:
        raise ServiceError("Enter between 1 and 240 months.", field="months")
    if not 1 <= policy.answer_days <= 365:
        raise ServiceError("Enter between 1 and 365 days.", field="answer_days")
    agency.retention_enabled = policy.enabled
    agency.retention_months = policy.months
    agency.retention_answer_days = policy.answer_days
    record_audit(
        "retention_changed",
        agency_id=agency.id,
        actor=by_user,
        now=now,
        enabled=policy.enabled,
        months=policy.months,
        answer_days=policy.answer_days,
    )
