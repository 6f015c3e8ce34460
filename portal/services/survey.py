"""The candidate experience survey (issue 15 item 3): one question, "How were you treated?".

The candidate's final e-mail (feedback after a rejection, or the offer) carries a signed link
naming the application and the day it was issued; the link expires ``LINK_DAYS`` later (reckoned
from the signed issue time, so it follows ``now=``). Opening it (GET) only shows the question, since
mail scanners follow links; the answer is a POST. One answer per application (the database
refuses a second). Answers are reported per agency, recruiter (job owner) and client company, as
averages and counts, to the agency only: never shown to the client.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Agency, Application, ClientCompany, Job, SurveyAnswer, User, as_utc, utcnow
from . import ServiceError
from .activity import record_for
from .mail import absolute_url

SALT = "portal.survey"
LINK_DAYS = 60
QUESTION = "How were you treated?"
SCORES = (1, 2, 3, 4, 5)
COMMENT_LIMIT = 2000
SURVEY_ANSWERED = "candidate.survey_answered"
ALREADY_ANSWERED = "Thank you, you have already answered: we keep one answer per application."


@dataclass
class SurveyLink:
    """What a survey link turned out to be: ``state`` is ok, expired or answered."""

    state: str
    application: Application
    agency: Agency
    expires_at: datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def survey_token(application: Application, *, now: datetime | None = None) -> str:
    """The signed token of ``application``'s survey link, issued ``now``."""
    issued = int(as_utc(now or utcnow()).timestamp())
    return str(_serializer().dumps({"a": application.agency_id, "p": application.id, "i": issued}))


def survey_url(application: Application, *, now: datetime | None = None) -> str:
    """The absolute link the candidate's final e-mail carries."""
    agency = db.session.get_one(Agency, application.agency_id)
    return absolute_url("survey.show", slug=agency.slug, survey_token=survey_token(application, now=now))


def check_survey_link(agency: Agency, token: str, *, now: datetime | None = None) -> SurveyLink | None:
    """Read a link without changing anything; None when it is not one of this agency's."""
    now = as_utc(now or utcnow())
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != agency.id:
        return None
    application_id, issued = payload.get("p"), payload.get("i")
    if not isinstance(application_id, int) or not isinstance(issued, int):
        return None
    application = db.session.get(Application, application_id)
    if application is None or application.agency_id != agency.id:
        return None
    if application.candidate.erased_at is not None:  # nothing more is kept about an erased person
        return None
    expires_at = datetime.fromtimestamp(issued, UTC) + timedelta(days=LINK_DAYS)
    state = "ok"
    if answer_of(application) is not None:
        state = "answered"
    elif now >= expires_at:
        state = "expired"
    return SurveyLink(state, application, agency, expires_at)


def answer_of(application: Application) -> SurveyAnswer | None:
    """The candidate's answer on ``application``, if they gave one."""
    return db.session.scalar(select(SurveyAnswer).where(SurveyAnswer.application_id == application.id))


def record_answer(link: SurveyLink, score: str | int | None, comment: str | None, *, now: datetime | None = None):
    """Store the candidate's answer (1–5 and an optional comment); a second one is refused."""
    now = as_utc(now or utcnow())
    if link.state == "answered" or answer_of(link.application) is not None:
        raise ServiceError(ALREADY_ANSWERED, field="score")
    if now >= link.expires_at:
        raise ServiceError("This link has expired, so it can no longer record an answer.", field="score")
    try:
        value = int(str(score or "").strip())
    except ValueError:
        value = 0
    if value not in SCORES:
        raise ServiceError("Choose a number from 1 to 5.", field="score")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LIMIT:
        raise ServiceError(
            f"The comment is {len(comment)} characters long; the limit is {COMMENT_LIMIT}.", field="comment"
        )
    answer = SurveyAnswer(
        agency_id=link.agency.id,
        application_id=link.application.id,
        score=value,
        comment=comment or None,
        answered_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(answer)
    except IntegrityError:
        # The candidate answered in another tab a moment ago: the database keeps one.
        raise ServiceError(ALREADY_ANSWERED, field="score") from None
    record_for(link.application, SURVEY_ANSWERED, f"{link.application.candidate.name} answered the survey", now=now)
    return answer


@dataclass(frozen=True)
class SurveyScore:
    """Average and count of answers for one group (the agency, a recruiter, a client)."""

    key: int
    label: str
    average: float
    count: int


def survey_scores(
    agency_id: int, by: str = "agency", *, since: datetime | None = None, until: datetime | None = None
) -> list[SurveyScore]:
    """Average score and count of answers in the agency, by ``agency``, ``recruiter`` (the job
    owner) or ``client`` (company), computed in SQL; ``since``/``until`` bound the answer time."""
    groups: dict = {
        "agency": (Agency, Agency.id, Agency.name, Agency.id == SurveyAnswer.agency_id),
        "recruiter": (User, User.id, User.name, User.id == Job.owner_id),
        "client": (ClientCompany, ClientCompany.id, ClientCompany.name, ClientCompany.id == Job.company_id),
    }
    if by not in groups:
        raise ValueError(by)
    entity, key, label, join_on = groups[by]
    query = (
        select(key, label, func.avg(SurveyAnswer.score), func.count(SurveyAnswer.id))
        .select_from(SurveyAnswer)
        .join(Application, Application.id == SurveyAnswer.application_id)
        .join(Job, Job.id == Application.job_id)
        .join(entity, join_on)
        .where(SurveyAnswer.agency_id == agency_id)
        .group_by(key, label)
        .order_by(label)
    )
    if since is not None:
        query = query.where(SurveyAnswer.answered_at >= as_utc(since))
    if until is not None:
        query = query.where(SurveyAnswer.answered_at < as_utc(until))
    return [SurveyScore(k, name, round(float(avg), 2), n) for k, name, avg, n in db.session.execute(query)]
