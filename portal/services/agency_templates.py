"""Profile templates and email templates the agency edits (B2), with ``{placeholder}`` fields.

Placeholders are plain names in braces. Only the names listed for a template are allowed, so a
typo is refused when saving rather than sent to a client; values are inserted as text (the HTML
email escapes them), never evaluated. Changes go into the caller's unit of work.
"""

import re
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Agency, Candidate, EmailTemplate, ProfileTemplate, User
from . import ServiceError
from .activity import record

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

PROFILE_PLACEHOLDERS = (
    "first_name",
    "last_name",
    "name",
    "headline",
    "current_title",
    "current_company",
    "location",
    "summary",
    "skills",
    "notice_period",
    "salary_expectation",
    "email",
    "phone",
)


@dataclass(frozen=True)
class DefaultEmail:
    """A built-in email: its label, default subject and body, and the placeholders it offers."""

    label: str
    subject: str
    body: str
    placeholders: tuple[str, ...]


DEFAULT_EMAILS = {
    "invite": DefaultEmail(
        "Invitation for a new user",
        "{inviter} invited you to {agency}",
        "Hello {name},\n\n{inviter} invited you to the {agency} portal. Choose your password with the "
        "button below; the link works once and expires in {days} days.",
        ("name", "agency", "inviter", "days"),
    ),
    "contact_invite": DefaultEmail(
        "Invitation for a client contact",
        "Your access to {agency}",
        "Hello {name},\n\n{agency} invited you to review candidates for {company}. Sign in with the "
        "button below; no password is needed. The link works once.",
        ("name", "agency", "company"),
    ),
    "sign_in": DefaultEmail(
        "Sign-in link for a client contact",
        "Your sign-in link for {agency}",
        "Hello {name},\n\nUse the button below to sign in to {agency}. The link works once and expires in "
        "{minutes} minutes.\n\nIf you did not ask for this, you can ignore this email.",
        ("name", "agency", "minutes"),
    ),
    "landing": DefaultEmail(
        "Job link for a client contact",
        "{job}: your link to the candidates",
        "Hello {name},\n\nCandidates for {job} are ready for your review.\n\nThis link is personal to you "
        "and expires in {days} days.",
        ("name", "agency", "job", "days"),
    ),
    # No-ghosting (issue 15): the one-click "still with the client" note to a candidate.
    "status_update": DefaultEmail(
        "Status update for a candidate",
        "Your application for {job}: an update",
        "Hello {first_name},\n\nA short update on your application for {job}: you are still with {client}, "
        "and we have not forgotten you. We expect their answer by {expected_by}, and we will tell you as soon "
        "as we hear, whatever it is.\n\nThank you for your patience. If you have questions, simply reply "
        "to this message.\n\n{recruiter}, {agency}",
        ("first_name", "job", "client", "agency", "recruiter", "expected_by"),
    ),
}
SAMPLE_VALUES = {
    "name": "Alex Example",
    "agency": "",
    "inviter": "Ada Admin",
    "days": "7",
    "company": "Example Ltd",
    "minutes": "30",
    "job": "Account Executive",
    "first_name": "Alex",
    "client": "Example Ltd",
    "recruiter": "Ada Admin",
    "expected_by": "Friday 15 January 2027 (Europe/London)",
}


def placeholders_in(text: str) -> list[str]:
    """The placeholder names used in ``text``, in order."""
    return [name.strip() for name in PLACEHOLDER.findall(text or "")]


def check_placeholders(text: str, allowed: tuple[str, ...], field: str) -> None:
    """Refuse unknown placeholders, naming the ones that are available."""
    unknown = [name for name in placeholders_in(text) if name not in allowed]
    if unknown:
        raise ServiceError(
            f"Unknown placeholder {{{unknown[0]}}}; available: " + ", ".join(f"{{{name}}}" for name in allowed) + ".",
            field=field,
        )


def fill(text: str, values: dict) -> str:
    """Replace each known ``{name}`` by its value (missing values become empty text)."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1).strip(), "") or ""), text or "")


def _clean(value: str | None, label: str, field: str, limit: int, single_line: bool = False) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError(f"Enter the {label}.", field=field)
    if len(value) > limit:
        raise ServiceError(f"The {label} is {len(value)} characters long; the limit is {limit}.", field=field)
    if single_line and ("\r" in value or "\n" in value):
        raise ServiceError(f"The {label} must be a single line.", field=field)
    return value


def candidate_values(candidate: Candidate) -> dict:
    """What a profile template's placeholders are filled with for one candidate."""
    values = {name: getattr(candidate, name, None) or "" for name in PROFILE_PLACEHOLDERS}
    values["email"] = candidate.primary_email or ""
    return values


def render_profile(template_body: str, candidate: Candidate) -> str:
    """A profile template filled in for one candidate (the preview, and what sharing starts from)."""
    return fill(template_body, candidate_values(candidate))


def preview_candidate(agency: Agency, candidate_id: int | None = None) -> Candidate | None:
    """A real candidate of the agency for previews: the one asked for, else the newest."""
    query = select(Candidate).where(Candidate.agency_id == agency.id)
    if candidate_id:
        chosen = db.session.scalar(query.where(Candidate.id == candidate_id))
        if chosen is not None:
            return chosen
    return db.session.scalar(query.order_by(Candidate.id.desc()).limit(1))


def preview_candidates(agency: Agency, chosen: Candidate | None = None, limit: int = 20) -> list[Candidate]:
    """The candidates a preview can be filled with: the agency's newest, and ``chosen`` first
    when it is older than those."""
    candidates = list(
        db.session.scalars(
            select(Candidate).where(Candidate.agency_id == agency.id).order_by(Candidate.id.desc()).limit(limit)
        )
    )
    if chosen is not None and chosen not in candidates:
        candidates.insert(0, chosen)
    return candidates


def preview_profile(body: str | None, candidate: Candidate | None) -> tuple[str | None, str | None]:
    """A profile template's preview: (the text filled in for ``candidate``, None), or (None, why)
    when the text uses an unknown placeholder; (None, None) without a candidate or text."""
    if candidate is None or not body:
        return None, None
    try:
        check_placeholders(body, PROFILE_PLACEHOLDERS, "body")
    except ServiceError as refusal:
        return None, refusal.message
    return render_profile(body, candidate), None


def save_profile_template(
    actor: User, name: str, body: str, hidden_by_default: str = "email,phone", template: ProfileTemplate | None = None
) -> ProfileTemplate:
    """Create or update a profile template of the actor's agency."""
    name = _clean(name, "template name", "name", 120, single_line=True)
    body = _clean(body, "template body", "body", 20000)
    check_placeholders(body, PROFILE_PLACEHOLDERS, "body")
    hidden = [h.strip() for h in (hidden_by_default or "").split(",") if h.strip()]
    bad = [h for h in hidden if h not in PROFILE_PLACEHOLDERS]
    if bad:
        raise ServiceError(
            f"“{bad[0]}” is not a profile field; choose from " + ", ".join(PROFILE_PLACEHOLDERS) + ".",
            field="hidden_by_default",
        )
    clash = db.session.scalar(
        select(ProfileTemplate.id).where(ProfileTemplate.agency_id == actor.agency_id, ProfileTemplate.name == name)
    )
    if clash is not None and (template is None or clash != template.id):
        raise ServiceError(f"A profile template called “{name}” already exists.", field="name")
    verb = "updated" if template else "created"
    if template is None:
        template = ProfileTemplate(agency_id=actor.agency_id)
        db.session.add(template)
    template.name, template.body, template.hidden_by_default = name, body, ",".join(hidden)
    db.session.flush()
    record(
        actor.agency_id,
        f"admin.profile_template_{verb}",
        f"{actor.name} {verb} the profile template “{name}”",
        actor=actor,
        profile_template_id=template.id,
    )
    return template


def delete_profile_template(actor: User, template: ProfileTemplate) -> None:
    """Remove a profile template (profiles already shared keep their prepared fields)."""
    record(
        actor.agency_id,
        "admin.profile_template_deleted",
        f"{actor.name} deleted the profile template “{template.name}”",
        actor=actor,
    )
    db.session.delete(template)


def email_override(agency: Agency, key: str) -> EmailTemplate | None:
    """The agency's own version of a built-in email, if it has one."""
    return db.session.scalar(
        select(EmailTemplate).where(EmailTemplate.agency_id == agency.id, EmailTemplate.key == key)
    )


def overridden_emails(agency: Agency) -> set[str]:
    """The keys of the built-in emails the agency has reworded."""
    return set(db.session.scalars(select(EmailTemplate.key).where(EmailTemplate.agency_id == agency.id)))


def email_subject_body(agency: Agency, key: str) -> tuple[str, str]:
    """Subject and body templates in force for ``key``: the override, else the default."""
    override = email_override(agency, key)
    if override is not None:
        return override.subject, override.body
    default = DEFAULT_EMAILS[key]
    return default.subject, default.body


def render_email(
    agency: Agency, key: str, values: dict, subject: str | None = None, body: str | None = None
) -> tuple[str, str]:
    """Subject (one line) and plain-text body for ``key`` filled with ``values``."""
    current_subject, current_body = email_subject_body(agency, key)
    subject = fill(subject if subject is not None else current_subject, values)
    return " ".join(subject.split()), fill(body if body is not None else current_body, values)


def validate_email_template(key: str, subject: str, body: str) -> tuple[str, str]:
    """Check an edited email template; return (subject, body) cleaned."""
    if key not in DEFAULT_EMAILS:
        raise ServiceError("There is no such email.", field="key")
    allowed = DEFAULT_EMAILS[key].placeholders
    subject = _clean(subject, "subject", "subject", 300, single_line=True)
    body = _clean(body, "body", "body", 20000)
    check_placeholders(subject, allowed, "subject")
    check_placeholders(body, allowed, "body")
    return subject, body


def preview_email(agency: Agency, key: str, subject: str, body: str) -> tuple[str, str]:
    """The email as a recipient would read it, with sample values (validated, not saved)."""
    subject, body = validate_email_template(key, subject, body)
    return render_email(agency, key, {**SAMPLE_VALUES, "agency": agency.title}, subject, body)


def save_email_template(actor: User, key: str, subject: str, body: str) -> EmailTemplate:
    """Store the agency's version of one built-in email."""
    subject, body = validate_email_template(key, subject, body)
    agency = actor.agency
    template = email_override(agency, key)
    if template is None:
        template = EmailTemplate(agency_id=agency.id, key=key)
        db.session.add(template)
    template.subject, template.body = subject, body
    record(
        agency.id,
        "admin.email_template_saved",
        f"{actor.name} changed the email “{DEFAULT_EMAILS[key].label}”",
        actor=actor,
        key=key,
    )
    return template


def reset_email_template(actor: User, key: str) -> None:
    """Go back to the built-in subject and body."""
    if key not in DEFAULT_EMAILS:
        raise ServiceError("There is no such email.", field="key")
    template = email_override(actor.agency, key)
    if template is not None:
        db.session.delete(template)
    record(
        actor.agency_id,
        "admin.email_template_reset",
        f"{actor.name} reset the email “{DEFAULT_EMAILS[key].label}” to the default",
        actor=actor,
        key=key,
    )
