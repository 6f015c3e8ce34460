"""Consent to be presented (A2a): recorded by a recruiter, or asked of the candidate by e-mail.

"Ask the candidate" e-mails a signed link naming one ``requested`` row. Opening the link (GET)
only shows the request, since mail scanners follow links; the candidate's answer is a POST. The
link may change the answer until it expires (``LINK_DAYS`` after the request); the expiry is
reckoned from the stored request time, so it follows ``now=`` like every other rule here.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from ..extensions import db
from ..models import Agency, Application, Candidate, ClientCompany, ConsentRecord, Job, Resume, User, as_utc, utcnow
from . import ServiceError
from .activity import record
from .alerts import alert_user
from .mail import absolute_url, send_mail
from .sharing import profile_from_template
from .timezones import zone_or_utc

SALT = "portal.consent"
LINK_DAYS = 30
CONSENT_RECORDED = "candidate.consent_recorded"
CONSENT_REQUESTED = "candidate.consent_requested"
CONSENT_ANSWERED = "candidate.consent_answered"
# How a recruiter heard the answer (what the form offers), and how each is written in the history.
CHANNELS = {"email": "by e-mail", "phone": "by phone", "in_person": "in person", "written": "in writing"}
CHANNEL_LABELS = {**CHANNELS, "link": "through the e-mailed link"}


@dataclass
class ConsentLink:
    """What a candidate's consent link turned out to be: ``state`` is ok or expired."""

    state: str
    record: ConsentRecord
    candidate: Candidate
    company: ClientCompany
    expires_at: datetime


@dataclass
class SharedWithClient:
    """What the candidate is asked to let the client see."""

    jobs: list[str] = field(default_factory=list)
    profile_lines: list[str] = field(default_factory=list)
    resume: bool = False


def _company(agency_id: int, company_id: int | None, *, required: bool) -> ClientCompany | None:
    if company_id is None and not required:
        return None
    company = db.session.get(ClientCompany, company_id) if company_id else None
    if company is None or company.agency_id != agency_id:
        raise ServiceError("Choose one of your clients.", field="company_id")
    return company


def _client_name(company: ClientCompany | None) -> str:
    return company.name if company is not None else "any client"


def _answered_at(given_on: date, by_user: User, now: datetime) -> datetime:
    """The instant to store for an answer given on ``given_on`` (a day in the recorder's zone):
    now for today, noon of that day otherwise."""
    local_zone = zone_or_utc(by_user.timezone)
    if given_on == now.astimezone(local_zone).date():
        return now
    return datetime.combine(given_on, time(12), local_zone).astimezone(now.tzinfo)


def record_consent(
    candidate: Candidate,
    by_user: User,
    *,
    company_id: int | None,
    answer: str,
    channel: str,
    given_on: date | None,
    now: datetime | None = None,
) -> ConsentRecord:
    """Record an answer the recruiter heard (``given`` or ``declined``), for one client or any
    client (``company_id`` None), with the day and how it was given."""
    now = as_utc(now or utcnow())
    company = _company(candidate.agency_id, company_id, required=False)
    if answer not in ("given", "declined"):
        raise ServiceError("Choose whether the candidate agreed or declined.", field="answer")
    if channel not in CHANNELS:
        raise ServiceError("Choose how the candidate answered.", field="channel")
    if given_on is None:
        raise ServiceError("Give the day the candidate answered.", field="given_on")
    if given_on > now.astimezone(zone_or_utc(by_user.timezone)).date():
        raise ServiceError("The day cannot be in the future.", field="given_on")
    consent = ConsentRecord(
        agency_id=candidate.agency_id,
        candidate_id=candidate.id,
        company_id=company.id if company else None,
        status=answer,
        channel=channel,
        given_at=_answered_at(given_on, by_user, now),
        method=f"Recorded {CHANNELS[channel]} by {by_user.name}",
        recorded_by_id=by_user.id,
    )
    db.session.add(consent)
    db.session.flush()
    verb = "agreed" if answer == "given" else "declined"
    record(
        candidate.agency_id,
        CONSENT_RECORDED,
        f"{candidate.name} {verb} to be presented to {_client_name(company)} ({CHANNELS[channel]}, "
        f"on {given_on:%d %b %Y}); recorded by {by_user.name}",
        actor=by_user,
        candidate_id=candidate.id,
        consent_id=consent.id,
        status=answer,
        now=now,
    )
    return consent


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def consent_token(consent: ConsentRecord) -> str:
    """The signed token of a consent request's link (its row and agency; the expiry is stored)."""
    return str(_serializer().dumps({"r": consent.id, "a": consent.agency_id}))


def ask_consent(
    candidate: Candidate, by_user: User, *, company_id: int | None, now: datetime | None = None
) -> ConsentRecord:
    """E-mail the candidate a link to agree or decline being presented to one client; replies go
    to the recruiter who asked. The request is on the timeline and in the consent history."""
    now = as_utc(now or utcnow())
    company = _company(candidate.agency_id, company_id, required=True)
    assert company is not None
    address = candidate.primary_email
    if not address:
        raise ServiceError(f"{candidate.name} has no e-mail address: record the answer instead.", field="company_id")
    consent = ConsentRecord(
        agency_id=candidate.agency_id,
        candidate_id=candidate.id,
        company_id=company.id,
        status="requested",
        channel="link",
        requested_at=now,
        method=f"Asked by e-mail by {by_user.name}",
        recorded_by_id=by_user.id,
    )
    db.session.add(consent)
    db.session.flush()
    agency = db.session.get_one(Agency, candidate.agency_id)
    expires = (now + timedelta(days=LINK_DAYS)).astimezone(zone_or_utc(candidate.timezone))
    send_mail(
        agency,
        "candidate.consent_request",
        address,
        f"May we present you to {company.name}?",
        "agency_notice",
        reply_to=by_user.email,
        greeting=candidate.first_name,
        paragraphs=[
            f"{by_user.name} of {agency.title} would like to present you to {company.name}.",
            (
                "We only do so with your agreement. The page behind the button shows what they would see; "
                "agree or decline there with one tap. You can change your answer with the same link "
                f"until {expires:%d %B %Y}."
            ),
            f"Questions? Simply reply to this message: it goes to {by_user.name}.",
        ],
        url=absolute_url("consent.show", slug=agency.slug, consent_token=consent_token(consent)),
        label="See the request",
    )
    record(
        candidate.agency_id,
        CONSENT_REQUESTED,
        f"Asked {candidate.name} by e-mail for consent to be presented to {company.name}",
        actor=by_user,
        candidate_id=candidate.id,
        consent_id=consent.id,
        now=now,
    )
    return consent


def check_consent_link(agency_id: int, token: str, *, now: datetime | None = None) -> ConsentLink | None:
    """Read a link without changing anything; None when it is not a request of this agency."""
    now = as_utc(now or utcnow())
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != agency_id or not isinstance(payload.get("r"), int):
        return None
    consent = db.session.get(ConsentRecord, payload["r"])
    if consent is None or consent.agency_id != agency_id or consent.requested_at is None or consent.company is None:
        return None
    expires_at = as_utc(consent.requested_at) + timedelta(days=LINK_DAYS)
    state = "ok" if now < expires_at else "expired"
    candidate = db.session.get_one(Candidate, consent.candidate_id)
    return ConsentLink(state, consent, candidate, consent.company, expires_at)


def answer_consent(link: ConsentLink, answer: str, *, now: datetime | None = None) -> ConsentRecord:
    """The candidate agrees (``given``) or declines through their link; they may change their
    answer until the link expires. Each change is on the timeline and alerts the recruiter who
    asked; the same answer again is neither."""
    now = as_utc(now or utcnow())
    if answer not in ("given", "declined"):
        raise ServiceError("Choose whether you agree or decline.", field="answer")
    if now >= link.expires_at:
        raise ServiceError("This link has expired.", field="answer")
    consent = link.record
    if consent.status == answer:
        return consent
    consent.status, consent.given_at = answer, now
    verb = "agreed" if answer == "given" else "declined"
    asker = db.session.get(User, consent.recorded_by_id) if consent.recorded_by_id else None
    if asker is not None:
        alert_user(
            asker,
            "consent_answered",
            f"{link.candidate.name} {verb} to be presented to {link.company.name}.",
            endpoint="agency.candidate",
            candidate_id=link.candidate.id,
            dedupe_key=f"consent:{consent.id}:{answer}",  # a change of mind alerts once per answer
            now=now,
        )
    record(
        consent.agency_id,
        CONSENT_ANSWERED,
        f"{link.candidate.name} {verb} to be presented to {link.company.name} (through the e-mailed link)",
        candidate_id=link.candidate.id,
        consent_id=consent.id,
        status=answer,
        now=now,
    )
    return consent


def what_is_shared(link: ConsentLink) -> SharedWithClient:
    """What the request page tells the candidate the client would see: the jobs at that client
    they are considered for, the profile lines the agency's template shows, and their resume."""
    applications = db.session.scalars(
        select(Application)
        .join(Job, Job.id == Application.job_id)
        .where(Application.candidate_id == link.candidate.id, Job.company_id == link.company.id)
        .order_by(Application.id)
    ).all()
    shared = SharedWithClient(jobs=[a.job.title for a in applications])
    if applications:
        lines = profile_from_template(applications[-1])
        shared.profile_lines = [line["label"] for line in lines if not line.get("hidden") and not line.get("contact")]
    shared.resume = bool(
        db.session.scalar(select(func.count(Resume.id)).where(Resume.candidate_id == link.candidate.id))
    )
    return shared


def consent_history(candidate: Candidate) -> list[ConsentRecord]:
    """Every answer and request about ``candidate``, newest first."""
    newest = func.coalesce(ConsentRecord.given_at, ConsentRecord.requested_at)
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.candidate_id == candidate.id, ConsentRecord.agency_id == candidate.agency_id)
            .order_by(newest.desc(), ConsentRecord.id.desc())
        )
    )


def channel_label(consent: ConsentRecord) -> str:
    """How the answer came (``by phone``), or the free text of records made before channels."""
    return CHANNEL_LABELS.get(consent.channel or "", consent.method)
