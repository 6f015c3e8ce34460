"""Candidates the recruiters keep (issue 14, item 1): add and edit a person, put them on a job.

One person per human per agency: e-mail addresses are unique per agency ignoring case (stored
lower-case under a unique index). Entering an address the agency already has offers the person
who has it (``EmailTaken``) instead of making a second one; the index is the last guard, so two
recruiters saving the same address at once get the same answer and nothing saved.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Application, Candidate, CandidateEmail, CandidateTag, ClientCompany, Job, User, as_utc
from ..scoping import jobs_query
from . import ServiceError, suppression
from .activity import record
from .pipeline import add_application
from .timezones import valid_zone
from .validation import clean_email

# Field: (how the messages name it, the column's length).
LIMITS = {
    "first_name": ("first name", 120),
    "last_name": ("last name", 120),
    "phone": ("phone number", 40),
    "headline": ("headline", 300),
    "current_title": ("current title", 200),
    "current_company": ("current company", 200),
    "location": ("location", 200),
    "source": ("source", 100),
}
MAX_TAGS = 30
LONGEST_TAG = 80


@dataclass(frozen=True)
class CandidateInput:
    """What the candidate form holds; ``tags`` is comma-separated, empty texts mean "not known"."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    headline: str = ""
    current_title: str = ""
    current_company: str = ""
    location: str = ""
    timezone: str = ""
    tags: str = ""
    source: str = ""

    @classmethod
    def of(cls, candidate: Candidate) -> "CandidateInput":
        """The form's values for an existing candidate (the edit page starts from them)."""
        values = {name: getattr(candidate, name) or "" for name in LIMITS}
        return cls(
            **values,
            email=candidate.primary_email or "",
            timezone=candidate.timezone or "",
            tags=", ".join(sorted(t.tag for t in candidate.tags)),
        )


class EmailTaken(ServiceError):
    """The address belongs to someone the agency already has: offer them, make no second one."""

    def __init__(self, owner: Candidate):
        super().__init__(f"This e-mail belongs to {owner.name}: open their page.", field="email")
        self.owner = owner


def email_owner(agency_id: int, email: str) -> Candidate | None:
    """The agency's candidate with this address (any case), if any."""
    return db.session.scalar(
        select(Candidate)
        .join(CandidateEmail, CandidateEmail.candidate_id == Candidate.id)
        .where(CandidateEmail.agency_id == agency_id, CandidateEmail.email == email.strip().lower())
    )


def create_candidate(
    by_user: User, values: CandidateInput, *, now: datetime | None = None, override_suppression: bool = False
) -> Candidate:
    """Add a person to the agency (refused, naming the field, when the input is not right or the
    e-mail is someone's already). An address of someone who was erased is refused unless
    ``override_suppression`` (the form's "Add anyway" box), which is logged in the audit log."""
    clean = _clean(values)
    email = _email(values.email)
    if email:
        _refuse_taken(by_user.agency_id, email, None)
        if not override_suppression and suppression.suppressed(by_user.agency_id, [email]):
            raise suppression.SuppressedAddress()
    candidate = Candidate(agency_id=by_user.agency_id, added_via="user", added_by_id=by_user.id)
    if now is not None:
        candidate.created_at = as_utc(now)

    def add() -> None:
        _apply(candidate, clean)
        if email:
            candidate.emails.append(CandidateEmail(agency_id=by_user.agency_id, email=email))
        db.session.add(candidate)

    _save(candidate, email, add)
    if email:
        suppression.admit(
            by_user.agency_id, [email], override=True, by_user=by_user, candidate_id=candidate.id, now=now
        )
    record(
        candidate.agency_id,
        "candidate.created",
        f"Added {candidate.name}",
        actor=by_user,
        candidate_id=candidate.id,
        now=now,
    )
    return candidate


def update_candidate(
    candidate: Candidate,
    by_user: User,
    values: CandidateInput,
    *,
    now: datetime | None = None,
    override_suppression: bool = False,
) -> Candidate:
    """Save edits to a person; the timeline says which fields changed. A new address of someone
    who was erased is refused unless ``override_suppression`` (logged), as on a new candidate."""
    if candidate.agency_id != by_user.agency_id:
        raise ServiceError("Choose one of your candidates.")
    if candidate.erased_at is not None:
        raise ServiceError("This person was erased: their placeholder cannot be edited.")
    before = CandidateInput.of(candidate)
    clean = _clean(values)
    email = _email(values.email)
    arriving = [email] if email and email not in {e.email for e in candidate.emails} else []
    if email:
        _refuse_taken(candidate.agency_id, email, candidate.id)
        if not override_suppression and suppression.suppressed(candidate.agency_id, arriving):
            raise suppression.SuppressedAddress()
    elif len(candidate.emails) > 1:
        raise ServiceError(
            "This person has other e-mail addresses too: type the one to keep as their main address.", field="email"
        )

    def change() -> None:
        _apply(candidate, clean)
        if not email:
            candidate.emails.clear()
        elif not candidate.emails:
            candidate.emails.append(CandidateEmail(agency_id=candidate.agency_id, email=email))
        elif email not in {e.email for e in candidate.emails}:
            candidate.emails[0].email = email  # the primary address changes; the others stay
        elif email != candidate.emails[0].email:
            _make_primary(candidate, email)

    _save(candidate, email, change)
    suppression.admit(candidate.agency_id, arriving, override=True, by_user=by_user, candidate_id=candidate.id, now=now)
    changed = [
        f.name.replace("_", " ")
        for f in fields(CandidateInput)
        if getattr(before, f.name) != getattr(CandidateInput.of(candidate), f.name)
    ]
    if changed:
        record(
            candidate.agency_id,
            "candidate.updated",
            f"Edited {candidate.name}: {', '.join(changed)}",
            actor=by_user,
            candidate_id=candidate.id,
            changed=changed,
            now=now,
        )
    return candidate


def add_to_job(candidate: Candidate, job_id: int | None, by_user: User, *, now: datetime | None = None) -> Application:
    """Put the person on an open job the user can see, at its first stage."""
    job = db.session.scalar(jobs_query(by_user).where(Job.id == job_id)) if job_id else None
    if job is None or candidate.agency_id != by_user.agency_id:
        raise ServiceError("Choose one of the open jobs.", field="job_id")
    if candidate.erased_at is not None:
        raise ServiceError("This person was erased: they cannot be put on a job.", field="job_id")
    if job.status != "open":
        raise ServiceError(f"{job.title} is closed: choose an open job.", field="job_id")
    if db.session.scalar(
        select(Application.id).where(Application.job_id == job.id, Application.candidate_id == candidate.id)
    ):
        raise ServiceError(f"{candidate.name} is already on {job.title}.", field="job_id")
    return add_application(job, candidate, by_user, now=now)


def open_job_choices(who: User) -> list[tuple[int, str]]:
    """The open jobs ``who`` can see, each named with its client ("Data Analyst — Globex"): two
    jobs with one title for different clients must not look alike."""
    rows = db.session.execute(
        jobs_query(who)
        .join(ClientCompany, ClientCompany.id == Job.company_id)
        .where(Job.status == "open")
        .with_only_columns(Job.id, Job.title, ClientCompany.name)
        .order_by(Job.title, ClientCompany.name, Job.id)
    )
    return [(job_id, f"{title} — {client}") for job_id, title, client in rows]


def _email(value: str) -> str | None:
    return clean_email(value) if (value or "").strip() else None


def _refuse_taken(agency_id: int, email: str, current_id: int | None) -> None:
    owner = email_owner(agency_id, email)
    if owner is not None and owner.id != current_id:
        raise EmailTaken(owner)


def _make_primary(candidate: Candidate, email: str) -> None:
    """Swap ``email`` (one of the person's other addresses) into the first, primary row; the
    unique index is never crossed, so the swap goes through a placeholder."""
    primary = candidate.emails[0]
    other = next(row for row in candidate.emails if row.email == email)
    previous = primary.email
    other.email = f"swap-{other.id}@invalid"
    db.session.flush()
    primary.email = email
    db.session.flush()
    other.email = previous


def _save(candidate: Candidate, email: str | None, change: Callable[[], None]) -> None:
    """Make ``change`` and flush it inside a savepoint: when another transaction saved the same
    address since the check (the unique index refuses this one), answer as the check would have."""
    try:
        with db.session.begin_nested():
            change()
            db.session.flush()
    except IntegrityError:
        owner = email_owner(candidate.agency_id, email) if email else None
        if owner is not None:
            raise EmailTaken(owner) from None
        raise


def _clean(values: CandidateInput) -> dict:
    """Every field trimmed and checked, or a refusal naming the first field at fault."""
    clean: dict = {}
    for name, (label, longest) in LIMITS.items():
        text = " ".join((getattr(values, name) or "").split())
        if len(text) > longest:
            raise ServiceError(f"Keep the {label} to {longest} characters or fewer.", field=name)
        clean[name] = text or None
    if not clean["first_name"]:
        raise ServiceError("Enter a first name.", field="first_name")
    clean["last_name"] = clean["last_name"] or ""
    zone = (values.timezone or "").strip()
    clean["timezone"] = valid_zone(zone).key if zone else None
    clean["tags"] = _tags(values.tags)
    return clean


def _tags(text: str) -> list[str]:
    tags: dict[str, str] = {}
    for part in (text or "").split(","):
        tag = " ".join(part.split())
        if not tag:
            continue
        if len(tag) > LONGEST_TAG:
            raise ServiceError(f"Keep each tag to {LONGEST_TAG} characters or fewer.", field="tags")
        tags.setdefault(tag.lower(), tag)
    if len(tags) > MAX_TAGS:
        raise ServiceError(f"At most {MAX_TAGS} tags.", field="tags")
    return list(tags.values())


def _apply(candidate: Candidate, clean: dict) -> None:
    for name in (*LIMITS, "timezone"):
        setattr(candidate, name, clean[name])
    wanted = clean["tags"]
    for tag in [t for t in candidate.tags if t.tag not in wanted]:
        candidate.tags.remove(tag)
    have = {t.tag for t in candidate.tags}
    candidate.tags.extend(CandidateTag(tag=tag) for tag in wanted if tag not in have)
