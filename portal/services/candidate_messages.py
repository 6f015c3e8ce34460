"""Messages to candidates (A8): no silent rejections, and times in the candidate's own zone.

The feedback text comes from the agency's ``candidate_feedback`` email template when it has one
(placeholders ``{first_name}``, ``{job}``, ``{client}``, ``{agency}``, ``{reason}``), otherwise a
kind default; for a candidate the client wants to hire (or hired) the default is the offer note.
The recruiter edits it before sending; sending satisfies the feedback task (A3).

This is the candidate's final e-mail (issue 15): it carries the one-question survey link, and
once it is sent the candidate counts as informed (no-ghosting).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Agency, Application, EmailTemplate, Reason, User, as_utc, utcnow
from . import ServiceError
from .activity import record
from .interviews import format_in_zone, zone
from .mail import send_mail
from .no_ghosting import mark_informed
from .survey import QUESTION, survey_url
from .tasks import FEEDBACK_SENT

TEMPLATE_KEY = "candidate_feedback"
DEFAULT_SUBJECT = "Your application for {job}"
DEFAULT_BODY = (
    "Thank you for your time and interest in the {job} role with {client}.\n\n"
    "After careful consideration, {client} has decided not to move forward with your application this time."
    "{reason_sentence}\n\n"
    "This is not a judgement of your worth: we were glad to present you, and we would like to keep you in "
    "mind for roles that fit you better. If you have questions, simply reply to this message."
)
# The default for a candidate the client wants to hire: the offer note.
OFFER_SUBJECT = "Good news about {job}"
OFFER_BODY = (
    "Congratulations: {client} would like to offer you the {job} role.\n\n"
    "We will call you shortly with the details of the offer and the next steps. If you have questions "
    "in the meantime, simply reply to this message."
)
OFFER_STATUSES = ("hire_requested", "hired")


@dataclass
class FeedbackDraft:
    """An editable message for one candidate."""

    subject: str
    body: str
    to: str | None
    zone_name: str


def compose_feedback(application: Application, *, reason_id: int | None = None) -> FeedbackDraft:
    """A kind, branded draft from the agency's template (the reason is optional)."""
    agency = db.session.get_one(Agency, application.agency_id)
    reason = (
        db.session.get(Reason, reason_id or application.reason_id) if (reason_id or application.reason_id) else None
    )
    if reason is not None and reason.agency_id != application.agency_id:
        reason = None
    template = db.session.scalar(
        select(EmailTemplate).where(EmailTemplate.agency_id == application.agency_id, EmailTemplate.key == TEMPLATE_KEY)
    )
    values = {
        "first_name": application.candidate.first_name,
        "job": application.job.title,
        "client": application.job.company.name,
        "agency": agency.title,
        "reason": reason.label if reason else "",
        "reason_sentence": f" The main reason given was: {reason.label.lower()}." if reason else "",
    }
    if application.client_status in OFFER_STATUSES or application.outcome == "hired":
        subject, body = OFFER_SUBJECT.format_map(_Missing(values)), OFFER_BODY.format_map(_Missing(values))
        return FeedbackDraft(
            subject, body, application.candidate.primary_email, zone(application.candidate.timezone).key
        )
    subject = (template.subject if template else DEFAULT_SUBJECT).format_map(_Missing(values))
    body = (template.body if template else DEFAULT_BODY).format_map(_Missing(values))
    return FeedbackDraft(subject, body, application.candidate.primary_email, zone(application.candidate.timezone).key)


class _Missing(dict):
    """Leaves unknown placeholders visible instead of failing on an admin's typo."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def send_feedback(application: Application, by_user: User, subject: str, body: str, *, now: datetime | None = None):
    """Email the candidate the (edited) feedback, dated in their zone with the zone's name, with
    the survey link; the candidate now counts as informed."""
    now = as_utc(now or utcnow())
    address = application.candidate.primary_email
    if not address:
        raise ServiceError(
            f"{application.candidate.name} has no email address; skip the task with a reason.", field="body"
        )
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    if not subject:
        raise ServiceError("Write a subject.", field="subject")
    if len(body) < 20:
        raise ServiceError("Write the message (at least 20 characters).", field="body")
    sent_on = format_in_zone(now, application.candidate.timezone)
    mail = send_mail(
        by_user.agency,
        "candidate.feedback",
        address,
        subject[:300],
        "agency_notice",
        greeting=application.candidate.first_name,
        paragraphs=[
            *[p.strip() for p in body.split("\n\n") if p.strip()],
            f"With best wishes, {by_user.name}, {by_user.agency.title}",
            f"Sent {sent_on}.",
            (
                f"One last question, if you have a minute: {QUESTION} Your answer goes to us only, never to "
                f"{application.job.company.name}."
            ),
        ],
        url=survey_url(application, now=now),
        label="Answer one question",
        reply_to=application.job.owner.email,
    )
    mark_informed(application, now=now)
    db.session.flush()
    record(
        application.agency_id,
        FEEDBACK_SENT,
        f"Sent feedback to {application.candidate.name}: {subject}",
        actor=by_user,
        job_id=application.job_id,
        candidate_id=application.candidate_id,
        application_id=application.id,
        mail_id=mail.id,
        now=now,
    )
    return mail
