"""Build rows with sensible defaults: ``make_job(agency=a)``. Call inside an app context."""

import functools
import itertools
from dataclasses import dataclass
from datetime import UTC, date

from werkzeug.security import generate_password_hash

from portal.demo import ensure_pipeline
from portal.extensions import db
from portal.models import (
    Agency,
    Application,
    Candidate,
    CandidateEmail,
    ClientCompany,
    ClientContact,
    ConsentRecord,
    Job,
    SharedProfile,
    User,
    utcnow,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


@functools.cache
def _password_hash() -> str:
    """The real scrypt hash of PASSWORD, computed once: hashing per user cost ~0.3 s each."""
    return generate_password_hash(PASSWORD)


def make_agency(slug: str | None = None, **kw) -> Agency:
    n = next(_seq)
    agency = Agency(slug=slug or f"agency{n}", name=kw.pop("name", f"Agency {n}"), **kw)
    db.session.add(agency)
    db.session.flush()
    ensure_pipeline(agency)
    return agency


def make_user(agency: Agency, role: str = "recruiter", **kw) -> User:
    n = next(_seq)
    user = User(
        agency_id=agency.id,
        role=role,
        name=kw.pop("name", f"User {n}"),
        email=kw.pop("email", f"user{n}@{agency.slug}.example"),
        **kw,
    )
    user.password_hash = _password_hash()
    db.session.add(user)
    db.session.flush()
    return user


def make_company(agency: Agency, **kw) -> ClientCompany:
    company = ClientCompany(agency_id=agency.id, name=kw.pop("name", f"Company {next(_seq)}"), **kw)
    db.session.add(company)
    db.session.flush()
    return company


def make_contact(company: ClientCompany, **kw) -> ClientContact:
    n = next(_seq)
    contact = ClientContact(
        agency_id=company.agency_id,
        company_id=company.id,
        name=kw.pop("name", f"Contact {n}"),
        email=kw.pop("email", f"contact{n}@client.example"),
        # A zone given here was chosen (as an admin or the contact would); none leaves it to the browser.
        timezone_source=kw.pop("timezone_source", "staff" if "timezone" in kw else None),
        **kw,
    )
    db.session.add(contact)
    db.session.flush()
    return contact


def make_job(company: ClientCompany, owner: User, **kw) -> Job:
    job = Job(
        agency_id=company.agency_id,
        company_id=company.id,
        owner_id=owner.id,
        title=kw.pop("title", f"Job {next(_seq)}"),
        **kw,
    )
    job.hiring_team = [owner]
    db.session.add(job)
    db.session.flush()
    return job


def make_candidate(agency: Agency, **kw) -> Candidate:
    n = next(_seq)
    candidate = Candidate(
        agency_id=agency.id, first_name=kw.pop("first_name", f"Cand{n}"), last_name=kw.pop("last_name", "Idate"), **kw
    )
    candidate.emails = [CandidateEmail(agency_id=agency.id, email=f"cand{n}@people.example")]
    db.session.add(candidate)
    db.session.flush()
    return candidate


def make_application(job: Job, candidate: Candidate | None = None, shared: bool = True, **kw) -> Application:
    agency = db.session.get(Agency, job.agency_id)
    candidate = candidate or make_candidate(agency)
    application = Application(
        agency_id=job.agency_id,
        job_id=job.id,
        candidate_id=candidate.id,
        stage_id=kw.pop("stage_id", agency.stages[2].id),
        **kw,
    )
    db.session.add(application)
    db.session.flush()
    if shared:
        db.session.add(
            SharedProfile(
                agency_id=job.agency_id, application_id=application.id, fields=[{"label": "Summary", "value": "Good."}]
            )
        )
        db.session.flush()
    return application


@dataclass
class Tenant:
    """One agency with two client companies and the people and jobs around them."""

    agency: Agency
    admin: User
    recruiter: User
    outsider: User  # a recruiter not on the confidential job's team
    company: ClientCompany
    other_company: ClientCompany
    contact: ClientContact
    other_contact: ClientContact
    job: Job
    other_job: Job
    confidential_job: Job
    application: Application
    unshared_application: Application


def make_tenant(slug: str) -> Tenant:
    """A complete agency for isolation tests."""
    agency = make_agency(slug)
    admin = make_user(agency, "admin")
    recruiter = make_user(agency)
    outsider = make_user(agency)
    company, other_company = make_company(agency), make_company(agency)
    contact, other_contact = make_contact(company), make_contact(other_company)
    job = make_job(company, recruiter)
    other_job = make_job(other_company, recruiter)
    confidential_job = make_job(company, recruiter, confidential=True)
    application = make_application(job)
    unshared_application = make_application(job, shared=False)
    make_application(other_job)
    db.session.commit()
    return Tenant(
        agency,
        admin,
        recruiter,
        outsider,
        company,
        other_company,
        contact,
        other_contact,
        job,
        other_job,
        confidential_job,
        application,
        unshared_application,
    )


def make_interview_request(
    application: Application,
    contact: ClientContact | None,
    slots=(),
    *,
    format: str = "video",
    timezone: str = "UTC",
    with_task: bool = True,
):
    """An open interview request shaped like the client portal's: slots are (starts_at, ends_at)
    UTC pairs; with the "Organise interview" task the client action creates (C→A3)."""
    from portal.models import InterviewRequest, ProposedSlot
    from portal.services.tasks import generate_task

    request = InterviewRequest(
        agency_id=application.agency_id,
        application_id=application.id,
        contact_id=contact.id if contact else None,
        format=format,
        timezone=timezone,
        proposed_slots=[ProposedSlot(starts_at=s, ends_at=e, timezone=timezone) for s, e in slots],
    )
    db.session.add(request)
    db.session.flush()
    application.client_status = "interview_requested"
    if with_task:
        generate_task(
            application, "organise_interview", f"organise_interview:req{request.id}", interview_request_id=request.id
        )
    db.session.flush()
    return request


def make_interview(application: Application, owner: User, starts_at, minutes: int = 60, **kw):
    """A scheduled interview (no request behind it)."""
    import uuid
    from datetime import timedelta

    from portal.models import Interview

    # SQLite stores an aware datetime's wall time without its offset: always store UTC.
    starts_at = starts_at.astimezone(UTC)
    interview = Interview(
        agency_id=application.agency_id,
        application_id=application.id,
        owner_id=owner.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        timezone=kw.pop("timezone", owner.timezone),
        format=kw.pop("format", "video"),
        meeting_link=kw.pop("meeting_link", "https://meet.example/x"),
        ics_uid=f"{uuid.uuid4()}@test",
        **kw,
    )
    db.session.add(interview)
    db.session.flush()
    return interview


def make_workspace_samples(application: Application, owner: User) -> dict[str, int]:
    """URL sample values for the agency workspace routes (route matrix, CSRF walk): an
    "Organise interview" task with its checklist and request, an interview, an alert, a saved
    search and the candidate's self-scheduling, consent and survey tokens, all on ``application`` and owned by
    ``owner``. Commits."""
    from datetime import datetime, timedelta

    from portal.models import Alert, SavedSearch, Task

    start = datetime(2031, 6, 2, 9, 0, tzinfo=UTC)
    request = make_interview_request(application, None, [(start, start + timedelta(hours=1))])
    task = db.session.scalar(db.select(Task).where(Task.interview_request_id == request.id))
    interview = make_interview(application, owner, start + timedelta(days=1))
    alert = Alert(
        agency_id=application.agency_id,
        user_id=owner.id,
        kind="sample",
        message="Sample alert",
        application_id=application.id,
    )
    db.session.add(alert)
    saved = SavedSearch(
        agency_id=application.agency_id, user_id=owner.id, name="Sample search", name_key="sample search", query="q=x"
    )
    db.session.add(saved)
    consent = ConsentRecord(
        agency_id=application.agency_id,
        candidate_id=application.candidate_id,
        company_id=db.session.get_one(Job, application.job_id).company_id,
        status="requested",
        channel="link",
        requested_at=utcnow(),
        method="Asked by e-mail",
        recorded_by_id=owner.id,
    )
    db.session.add(consent)
    # Issue 16: the candidate was asked whether to keep their details (the retention link).
    db.session.get_one(Candidate, application.candidate_id).retention_asked_at = utcnow()
    db.session.commit()
    from portal.services.consent import consent_token
    from portal.services.interviews import self_schedule_token
    from portal.services.retention import answer_token
    from portal.services.survey import survey_token

    return {
        "task_id": task.id,
        "item_id": task.checklist[0].id,
        "request_id": request.id,
        "interview_id": interview.id,
        "alert_id": alert.id,
        "saved_id": saved.id,
        "schedule_token": self_schedule_token(request, meeting_link="https://meet.example/sample"),
        "consent_token": consent_token(consent),
        "survey_token": survey_token(application),
        "retention_token": answer_token(db.session.get_one(Candidate, application.candidate_id)),
    }


def make_admin_samples(application: Application, admin: User) -> dict:
    """URL values for the admin routes, all of the application's agency (isolation and CSRF walks).

    The stage is the application's own, so a walk that posts "delete" is refused (it is in use);
    the user is the admin themself, so "deactivate" is refused too and no walker is signed out.
    """
    from portal.models import AgencyHoliday, ProfileTemplate, Reason

    template = ProfileTemplate(agency_id=application.agency_id, name="Walk template", body="{name}")
    holiday = AgencyHoliday(agency_id=application.agency_id, day=date(2030, 12, 25), name="Walk holiday")
    db.session.add_all([template, holiday])
    db.session.commit()
    reason_id = db.session.scalar(
        db.select(Reason.id).where(Reason.agency_id == application.agency_id).order_by(Reason.id).limit(1)
    )
    return {
        "user_id": admin.id,
        "stage_id": application.stage_id,
        "reason_id": reason_id,
        "template_id": template.id,
        "holiday_id": holiday.id,
        "key": "invite",
    }
