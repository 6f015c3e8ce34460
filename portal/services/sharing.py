"""Sharing candidates with the client (A2, A2a): guards, profiles from the template, bulk
share and unshare, and the "Send online" email.

Unsharing only stamps ``unshared_at``: the client's queries exclude such profiles at once, and
the history of what was shown (and when) survives for the guards of later shares.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm.attributes import flag_modified

from ..extensions import db
from ..models import (
    Activity,
    Agency,
    Application,
    Candidate,
    ClientContact,
    ConsentRecord,
    InterviewRequest,
    Job,
    ProfileTemplate,
    Resume,
    SharedProfile,
    User,
    VideoResume,
    as_utc,
    utcnow,
)
from ..scoping import jobs_query
from . import ServiceError
from .activity import record
from .auth import landing_link
from .client_profile import CONTACT_PLACEHOLDERS, is_contact_line
from .mail import send_mail
from .no_ghosting import refresh_inform_by
from .timezones import zone_or_utc
from .working_days import agency_holidays, feedback_due_at

SENT_ONLINE = "job.sent_online"
DEFAULT_TEMPLATE = (
    "Name: {name}\nCurrent role: {current_title}\nCurrent company: {current_company}\nLocation: {location}\n"
    "Summary: {summary}\nSkills: {skills}\nNotice period: {notice_period}\n"
    "Salary expectation: {salary_expectation}\nEmail: {email}\nPhone: {phone}"
)
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
OUTCOME_LABELS = {
    None: "in process",
    "hired": "hired",
    "rejected_by_client": "rejected by the client",
    "rejected_by_agency": "rejected by the agency",
    "withdrawn": "withdrawn",
}


@dataclass
class PriorSubmission:
    """The candidate on another job of the same client."""

    job_title: str
    shared_at: datetime | None
    outcome: str


@dataclass
class ShareGuards:
    """What the recruiter must see before sharing (A2a)."""

    submissions: list[PriorSubmission] = field(default_factory=list)
    rejections: list[PriorSubmission] = field(default_factory=list)
    consent: ConsentRecord | None = None
    # The candidate's latest answer was no (for this client, or for any client when none named it).
    declined: ConsentRecord | None = None
    # Asked by e-mail and not answered yet.
    requested: ConsentRecord | None = None

    @property
    def needs_override(self) -> bool:
        return self.consent is None


def share_guards(application: Application, viewer: User | None = None) -> ShareGuards:
    """Prior submissions to and rejections by this client, and the recorded consent. Jobs the
    ``viewer`` may not see (confidential, off its team) are listed without their title."""
    job = application.job
    guards = ShareGuards()
    visible = set(db.session.scalars(jobs_query(viewer).with_only_columns(Job.id))) if viewer else None
    rows = db.session.execute(
        select(Application, Job.title, SharedProfile.shared_at)
        .join(Job, Job.id == Application.job_id)
        .outerjoin(SharedProfile, SharedProfile.application_id == Application.id)
        .where(
            Application.candidate_id == application.candidate_id,
            Job.company_id == job.company_id,
            Application.id != application.id,
        )
        .order_by(Application.applied_at)
    ).all()
    for other, title, shared_at in rows:
        if visible is not None and other.job_id not in visible:
            title = "a confidential job"
        entry = PriorSubmission(title, as_utc(shared_at), OUTCOME_LABELS.get(other.outcome, other.outcome))
        if shared_at is not None:
            guards.submissions.append(entry)
        if other.outcome == "rejected_by_client" or other.client_status == "rejected_by_client":
            guards.rejections.append(entry)
    about_this_client = or_(ConsentRecord.company_id == job.company_id, ConsentRecord.company_id.is_(None))
    # The newest answer wins, whether about this client or any client (a later "not anywhere"
    # overrides an older yes to this client); only a general yes never lifts a decline of this client.
    answers = list(
        db.session.scalars(
            select(ConsentRecord)
            .where(
                ConsentRecord.candidate_id == application.candidate_id,
                about_this_client,
                ConsentRecord.status.in_(("given", "declined")),
            )
            .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
        )
    )
    latest = answers[0] if answers else None
    if latest is not None and latest.status == "given" and latest.company_id is None:
        latest = next((a for a in answers if a.status == "declined" and a.company_id is not None), latest)
    if latest is not None and latest.status == "given":
        guards.consent = latest
    elif latest is not None:
        guards.declined = latest
    guards.requested = db.session.scalar(
        select(ConsentRecord)
        .where(
            ConsentRecord.candidate_id == application.candidate_id,
            ConsentRecord.company_id == job.company_id,
            ConsentRecord.status == "requested",
        )
        .order_by(ConsentRecord.requested_at.desc())
        .limit(1)
    )
    return guards


def declined_message(declined: ConsentRecord, application: Application, zone_name: str | None) -> str:
    """``Ada Lovelace declined to be presented to Initech on 3 Dec 2026.`` (the day in ``zone_name``)."""
    day = as_utc(declined.given_at or utcnow()).astimezone(zone_or_utc(zone_name))
    client = application.job.company.name if declined.company_id else "any client"
    return f"{application.candidate.name} declined to be presented to {client} on {day.day} {day:%b %Y}."


def _placeholder_values(candidate: Candidate) -> dict[str, str]:
    return {
        "name": candidate.name,
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "headline": candidate.headline or "",
        "current_title": candidate.current_title or "",
        "current_company": candidate.current_company or "",
        "location": candidate.location or "",
        "summary": candidate.summary or "",
        "skills": candidate.skills or "",
        "notice_period": candidate.notice_period or "",
        "salary_expectation": candidate.salary_expectation or "",
        "email": candidate.primary_email or "",
        "phone": candidate.phone or "",
    }


def profile_from_template(application: Application, template: ProfileTemplate | None = None) -> list[dict]:
    """Lines ``{label, value, hidden, contact}`` from a profile template (the agency's first one
    unless given) with placeholders filled. ``contact`` marks a line with a contact placeholder
    whatever its label: client_profile.py withholds it until hire unless the share shows contact
    details. Lines with other placeholders the template hides by default start hidden."""
    if template is None:
        template = db.session.scalar(
            select(ProfileTemplate)
            .where(ProfileTemplate.agency_id == application.agency_id)
            .order_by(ProfileTemplate.id)
            .limit(1)
        )
    body = template.body if template else DEFAULT_TEMPLATE
    hidden_keys = {k.strip() for k in (template.hidden_by_default if template else "").split(",")} - {""}
    values = _placeholder_values(application.candidate)
    fields = []
    for line in body.splitlines():
        label, sep, text = line.partition(":")
        if not sep or not label.strip():
            continue
        used = {name.strip() for name in PLACEHOLDER.findall(text)}
        value = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text).strip()
        fields.append(
            {
                "label": label.strip()[:80],
                "value": value[:4000],
                "hidden": bool(used & (hidden_keys - CONTACT_PLACEHOLDERS)),
                "contact": bool(used & CONTACT_PLACEHOLDERS),
            }
        )
    return fields


def interview_requested(application: Application) -> bool:
    """Whether the client ever asked to interview the candidate (it ends a blind share's anonymity)."""
    query = select(InterviewRequest.id).where(InterviewRequest.application_id == application.id).limit(1)
    return db.session.scalar(query) is not None


def clean_fields(candidate: Candidate, fields: list[dict]) -> list[dict]:
    """Submitted lines as stored: trimmed, empty labels dropped, typed flags set. A line is
    contact when it came from a contact placeholder or its text holds a contact value."""
    cleaned: list[dict] = []
    for item in fields:
        label = str(item.get("label") or "").strip()[:80]
        if not label:
            continue
        value = str(item.get("value") or "").strip()[:4000]
        contact = is_contact_line({**item, "value": value}, candidate)
        cleaned.append({"label": label, "value": value, "hidden": bool(item.get("hidden")), "contact": contact})
    return cleaned


def share_candidate(
    application: Application,
    by_user: User,
    *,
    fields: list[dict] | None = None,
    show_contact_details: bool = False,
    resume_id: int | None = None,
    video_resume_id: int | None = None,
    consent_override_reason: str | None = None,
    blind: bool = False,
    now: datetime | None = None,
) -> SharedProfile:
    """Show the candidate on the job's portal page. Refuses without recorded consent unless an
    override reason is given (which is logged). ``fields`` are lines ``{label, value, hidden}``
    (the template's when None); contact details stay hidden until hire unless
    ``show_contact_details`` (C5)."""
    now = as_utc(now or utcnow())
    if not application.is_active:
        raise ServiceError(
            f"{application.candidate.name}'s application is closed; reopen it before sharing.", field="application"
        )
    guards = share_guards(application)
    override = (consent_override_reason or "").strip()
    if guards.needs_override and len(override) < 5:
        missing = (
            declined_message(guards.declined, application, by_user.timezone)
            if guards.declined
            else f"No consent to present {application.candidate.name} to {application.job.company.name} is recorded."
        )
        raise ServiceError(
            f"{missing} Record consent, or give a reason to share anyway (at least 5 characters).",
            field="consent_override_reason",
        )
    if (
        resume_id
        and db.session.scalar(
            select(Resume.id).where(Resume.id == resume_id, Resume.candidate_id == application.candidate_id)
        )
        is None
    ):
        raise ServiceError("Choose one of this candidate's resumes.", field="resume_id")
    if (
        video_resume_id
        and db.session.scalar(
            select(VideoResume.id).where(
                VideoResume.id == video_resume_id, VideoResume.candidate_id == application.candidate_id
            )
        )
        is None
    ):
        raise ServiceError("Choose one of this candidate's video resumes.", field="video_resume_id")
    fields = clean_fields(application.candidate, profile_from_template(application) if fields is None else fields)
    profile = application.shared_profile
    if profile is None:
        # Through the relationship, so ``application.shared_profile`` is the new row at once.
        profile = SharedProfile(agency_id=application.agency_id, application=application)
        db.session.add(profile)
    if profile.unshared_at is not None or profile.feedback_due_at is None or profile.shared_at is None:
        # A new share (or one shown again) starts its clock; editing a live share keeps its deadline.
        profile.feedback_due_at = decision_deadline(application.job, now)
    profile.fields, profile.show_contact_details = fields, bool(show_contact_details)
    profile.resume_id, profile.video_resume_id, profile.blind = resume_id or None, video_resume_id or None, blind
    profile.consent_override_reason = override if guards.needs_override else None
    profile.shared_by_id, profile.shared_at, profile.unshared_at = by_user.id, now, None
    # The scoreboard's clock to the client's first answer starts again. Flagged: the column may
    # have been written past this object (portal/services/scoreboard_facts.py), so an unchanged
    # None here would not be written.
    profile.first_feedback_at = None
    flag_modified(profile, "first_feedback_at")
    application.last_activity_at = now
    refresh_inform_by(application, now=now)
    summary = f"Shared {application.candidate.name} with {application.job.company.name}"
    if guards.needs_override:
        summary += f" without recorded consent (override: {override})"
    if profile.show_contact_details:
        summary += ", contact details shown before hire"
    record(
        application.agency_id,
        "candidate.shared",
        summary,
        actor=by_user,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        application_id=application.id,
        consent_override_reason=profile.consent_override_reason,
        now=now,
    )
    return profile


def decision_deadline(job: Job, shared_at: datetime) -> datetime:
    """The "please decide by" of a candidate shared on ``job`` at ``shared_at``: the job's working
    days (the agency's default unless the job overrides it), ending in the job owner's zone."""
    agency = db.session.get_one(Agency, job.agency_id)
    days = job.feedback_due_working_days or agency.feedback_due_working_days
    owner = db.session.get_one(User, job.owner_id)
    return feedback_due_at(shared_at, days, owner.timezone, agency_holidays(job.agency_id))


def unshare_candidate(application: Application, by_user: User, *, now: datetime | None = None) -> SharedProfile:
    """Remove the candidate from the portal immediately."""
    profile = application.shared_profile
    if profile is None or profile.unshared_at is not None:
        raise ServiceError(f"{application.candidate.name} is not shared.", field="application")
    profile.unshared_at = as_utc(now or utcnow())
    record(
        application.agency_id,
        "candidate.unshared",
        f"Unshared {application.candidate.name} from {application.job.company.name}",
        actor=by_user,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        application_id=application.id,
        now=now,
    )
    return profile


def bulk_share(
    job: Job,
    application_ids: list[int],
    by_user: User,
    *,
    consent_override_reason: str | None = None,
    now: datetime | None = None,
) -> list[Application]:
    """Share several candidates of one job at once; all or nothing (refusals name each candidate)."""
    applications = _job_applications(job, application_ids)
    problems = []
    # share_candidate validates before it changes anything, so a refusal leaves nothing to undo of
    # its own; leaving the savepoint by the refusal below undoes the candidates shared before it,
    # whatever the caller then does with the rest of its transaction.
    with db.session.begin_nested():
        for application in applications:
            try:
                share_candidate(application, by_user, consent_override_reason=consent_override_reason, now=now)
            except ServiceError as exc:
                problems.append(exc.message)
        if problems:
            raise ServiceError("Nothing was shared. " + " ".join(problems), field="application_ids")
    return applications


def bulk_unshare(
    job: Job, application_ids: list[int], by_user: User, *, now: datetime | None = None
) -> list[Application]:
    """Unshare several candidates of one job; ones not shared are left as they are."""
    applications = _job_applications(job, application_ids)
    done = []
    for application in applications:
        profile = application.shared_profile
        if profile is not None and profile.unshared_at is None:
            unshare_candidate(application, by_user, now=now)
            done.append(application)
    if not done:
        raise ServiceError("None of the selected candidates is shared.", field="application_ids")
    return done


def _job_applications(job: Job, application_ids: list[int]) -> list[Application]:
    ids = {int(i) for i in application_ids or []}
    if not ids:
        raise ServiceError("Select at least one candidate.", field="application_ids")
    applications = list(
        db.session.scalars(
            select(Application)
            .where(Application.job_id == job.id, Application.agency_id == job.agency_id, Application.id.in_(ids))
            .order_by(Application.id)
        )
    )
    if len(applications) != len(ids):
        raise ServiceError("Some selected candidates are not on this job.", field="application_ids")
    return applications


def newly_shared(job: Job) -> list[Application]:
    """Candidates shared on the job since the last "Send online" (all shared ones before the first)
    and still awaiting the client's review: one the client already rejected, asked to interview
    or hired is news to nobody."""
    last_sent = db.session.scalar(
        select(Activity.created_at)
        .where(Activity.job_id == job.id, Activity.verb == SENT_ONLINE)
        .order_by(Activity.created_at.desc())
        .limit(1)
    )
    query = (
        select(Application)
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(
            Application.job_id == job.id,
            SharedProfile.unshared_at.is_(None),
            Application.client_status == "awaiting_review",
            Application.closed_at.is_(None),
        )
        .order_by(SharedProfile.shared_at)
    )
    if last_sent is not None:
        query = query.where(SharedProfile.shared_at > last_sent)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class OnlineMessage:
    """What "Send online" e-mails each chosen contact (the same for all but the greeting and link)."""

    subject: str
    paragraphs: list[str]
    items: list[str]
    label: str = "Review the candidates"


# The personal note a recruiter may add to "Send online" (stored on the timeline, sent in the mail).
ONLINE_NOTE_MAX = 2000


def online_message(
    job: Job, by_user: User, note: str = "", candidates: list[Application] | None = None
) -> OnlineMessage:
    """The "Send online" e-mail for the candidates still to announce, with the recruiter's
    personal note; also the form's preview, so the preview is exactly what is sent."""
    candidates = newly_shared(job) if candidates is None else candidates
    names = [_display_name(a) for a in candidates]
    paragraphs = [f"{by_user.name} shared {len(names)} new candidate(s) for {job.title}:"]
    note = (note or "").strip()
    if note:
        paragraphs.insert(0, note)
    return OnlineMessage(f"{job.title}: new candidates to review", paragraphs, names)


def send_online(job: Job, contact_ids: list[int], by_user: User, note: str = "") -> int:
    """Email chosen contacts the job landing link and the newly shared candidates still awaiting
    their review, with the recruiter's personal ``note`` (optional)."""
    if len((note or "").strip()) > ONLINE_NOTE_MAX:
        raise ServiceError(f"Keep the note under {ONLINE_NOTE_MAX:,} characters.", field="note")
    ids = {int(i) for i in contact_ids or []}
    if not ids:
        raise ServiceError("Choose at least one contact.", field="contact_ids")
    contacts = list(
        db.session.scalars(
            select(ClientContact).where(
                ClientContact.id.in_(ids),
                ClientContact.company_id == job.company_id,
                ClientContact.agency_id == job.agency_id,
                ClientContact.active.is_(True),
            )
        )
    )
    if len(contacts) != len(ids):
        raise ServiceError("Choose active contacts of this job's client.", field="contact_ids")
    candidates = newly_shared(job)
    if not candidates:
        raise ServiceError(
            "No newly shared candidates awaiting the client's review to announce: share someone first.",
            field="contact_ids",
        )
    message = online_message(job, by_user, note, candidates)
    names = message.items
    for contact in contacts:
        send_mail(
            by_user.agency,
            "job.sent_online",
            contact.email,
            message.subject,
            "agency_notice",
            greeting=contact.name,
            paragraphs=message.paragraphs,
            items=names,
            url=landing_link(contact, job, issued_by=by_user),
            label=message.label,
        )
    record(
        job.agency_id,
        SENT_ONLINE,
        f"Sent {len(names)} new candidate(s) online to {', '.join(c.name for c in contacts)}",
        actor=by_user,
        job_id=job.id,
        contact_ids=sorted(ids),
        application_ids=[a.id for a in candidates],
        note=(note or "").strip() or None,
    )
    return len(contacts)


def _display_name(application: Application) -> str:
    profile = application.shared_profile
    if profile is not None and profile.blind:
        return f"Candidate A-{application.id}"
    return application.candidate.name


def shared_count_by_job(agency_id: int) -> dict[int, int]:
    """How many candidates are shared on each of the agency's jobs now, by job id."""
    return dict(
        db.session.execute(
            select(Application.job_id, func.count())
            .join(SharedProfile, SharedProfile.application_id == Application.id)
            .where(Application.agency_id == agency_id, SharedProfile.unshared_at.is_(None))
            .group_by(Application.job_id)
        )
        .tuples()
        .all()
    )


def job_contacts(job: Job) -> list[ClientContact]:
    """The contacts of the job's client (deactivated ones included), by name: who may get its link."""
    return list(
        db.session.scalars(
            select(ClientContact)
            .where(ClientContact.company_id == job.company_id, ClientContact.agency_id == job.agency_id)
            .order_by(ClientContact.name)
        )
    )


def candidate_resumes(candidate_id: int) -> list[Resume]:
    """The candidate's resume files, newest first (what a shared profile may attach)."""
    return list(
        db.session.scalars(
            select(Resume)
            .where(Resume.candidate_id == candidate_id)
            .order_by(Resume.uploaded_at.desc(), Resume.id.desc())
        )
    )


def candidate_video_resumes(candidate_id: int) -> list[VideoResume]:
    """The candidate's video resumes, newest first (what a shared profile may attach)."""
    return list(
        db.session.scalars(
            select(VideoResume)
            .where(VideoResume.candidate_id == candidate_id)
            .order_by(VideoResume.created_at.desc(), VideoResume.id.desc())
        )
    )
