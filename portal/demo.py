"""Demo data: two agencies, each with two client companies, jobs, and a few hundred candidates.

Deterministic (seeded random) and idempotent: loading twice changes nothing.
"""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .demo_files import add_demo_files
from .extensions import db
from .models import (
    Agency,
    Application,
    Candidate,
    CandidateEmail,
    CandidateTag,
    ClientCompany,
    ClientContact,
    ConsentRecord,
    InterviewRequest,
    Job,
    ProfileTemplate,
    Reason,
    Scorecard,
    SharedProfile,
    StageDefinition,
    StageHistory,
    User,
    utcnow,
)
from .services import application_status
from .services.auth import landing_link
from .services.sharing import profile_from_template

DEMO_PASSWORD = "demo-password"
DEFAULT_STAGES = ["Sourced", "Screening", "Submitted", "Client review", "Interview", "Offer", "Hired"]
REJECTION_REASONS = [
    "Not enough experience",
    "Salary expectations too high",
    "Failed the assessment",
    "Did not attend the interview",
    "No agreed interview date",
    "Culture fit",
]
LOSS_REASONS = ["Already found a job", "Withdrew", "Relocated"]
# Profile templates of every demo agency: the standard lines, contact lines under other labels,
# and no contact lines at all. Contact details stay hidden from clients until hire in each (C5).
PROFILE_TEMPLATES = [
    (
        "Standard",
        (
            "Name: {name}\nCurrent role: {current_title}\nLocation: {location}\nSummary: {summary}\n"
            "Skills: {skills}\nNotice period: {notice_period}\nSalary expectation: {salary_expectation}\n"
            "Email: {email}\nPhone: {phone}"
        ),
        "email,phone",
    ),
    (
        "Contact lines relabelled",
        (
            "Candidate: {first_name} {last_name}\nE-mail: {email}\nMobile: {phone}\n"
            "Reach them: {name} <{email}>, {phone}\nSummary: {summary}\nSkills: {skills}\nSalary: {salary_expectation}"
        ),
        "salary_expectation",
    ),
    ("Short", "Name: {name}\nHeadline: {headline}\nSkills: {skills}", ""),
]

AGENCIES = [
    {
        "slug": "northwind",
        "name": "Northwind Talent",
        "primary": "#0f5132",
        "accent": "#9a3412",
        "welcome": "Welcome to Northwind Talent's client portal. Review your shortlist in minutes.",
        "admin": ("Ada Admin", "admin@northwind.example"),
        "recruiters": [("Rita Recruiter", "rita@northwind.example"), ("Sam Sourcer", "sam@northwind.example")],
        "companies": [
            ("Acme Ltd", [("Clara Client", "clara@acme.example", "Europe/London")]),
            ("Globex", [("Gus Grant", "gus@globex.example", "America/New_York")]),
        ],
        "candidates": 300,
    },
    {
        "slug": "bluepeak",
        "name": "Bluepeak Search",
        "primary": "#1e3a8a",
        "accent": "#a21caf",
        "welcome": "Bluepeak Search: your candidates, one click away.",
        "admin": ("Bea Boss", "admin@bluepeak.example"),
        "recruiters": [("Rob Recruiter", "rob@bluepeak.example")],
        "companies": [
            ("Initech", [("Ivy Irving", "ivy@initech.example", "Europe/Berlin")]),
            ("Umbrella Corp", [("Uma Ueda", "uma@umbrella.example", "Asia/Kolkata")]),
        ],
        "candidates": 60,
    },
]
FIRST = [
    "Mara",
    "Liam",
    "Noah",
    "Ava",
    "Zoe",
    "Omar",
    "Priya",
    "Chen",
    "Lucas",
    "Ines",
    "Kofi",
    "Sara",
    "Yuki",
    "Ivan",
    "Lena",
    "Raj",
    "Nia",
    "Tom",
    "Elif",
    "Diego",
]
LAST = [
    "Stephenson",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Nguyen",
    "Garcia",
    "Kowalski",
    "Haddad",
    "Silva",
    "Patel",
    "Moreau",
    "Jensen",
    "Tanaka",
    "Novak",
    "Byrne",
]
TITLES = [
    "Account Executive",
    "Backend Engineer",
    "Data Analyst",
    "Product Manager",
    "UX Designer",
    "Sales Manager",
    "DevOps Engineer",
    "Customer Success Lead",
    "Marketing Manager",
    "QA Engineer",
]
SKILLS = ["python", "sql", "saas", "negotiation", "kubernetes", "figma", "salesforce", "react", "excel", "aws"]
CITIES = ["London, UK", "Manchester, UK", "Berlin, DE", "New York, US", "Remote", "Dublin, IE", "Pune, IN"]
SOURCES = ["LinkedIn", "Referral", "Job board", "Website", "ATS import"]


def load_demo(now: datetime | None = None) -> bool:
    """Create the demo data unless it exists, every date relative to ``now``.

    Returns True when something was created. When the data exists (loaded on an earlier day), the
    demo's open interview requests are moved to the coming days instead, so the demo never offers
    a time that has passed.
    """
    now = now or utcnow()
    if db.session.scalar(select(Agency).where(Agency.slug == AGENCIES[0]["slug"])):
        _move_open_requests_ahead(now)
        return False
    rng = random.Random(20261123)
    for spec in AGENCIES:
        _load_agency(spec, rng, now)
    db.session.flush()
    add_demo_files(
        list(db.session.scalars(select(Agency.id).where(Agency.slug.in_([s["slug"] for s in AGENCIES])))), now
    )
    _client_activity(now)
    return True


def _move_open_requests_ahead(now: datetime) -> int:
    """Shift each demo request whose first proposed time has passed by whole days (same wall-clock
    time in the proposer's zone) so that it starts at least a day after ``now``. Returns how many."""
    demo_agencies = select(Agency.id).where(Agency.slug.in_([spec["slug"] for spec in AGENCIES]))
    requests = db.session.scalars(
        select(InterviewRequest).where(InterviewRequest.agency_id.in_(demo_agencies), InterviewRequest.status == "open")
    ).all()
    moved = 0
    for request in requests:
        slots = sorted(request.proposed_slots, key=lambda slot: slot.starts_at)
        if not slots or slots[0].starts_at > now:
            continue
        days = (now - slots[0].starts_at).days + 2
        for slot in slots:
            zone = ZoneInfo(slot.timezone)
            length = slot.ends_at - slot.starts_at
            local = slot.starts_at.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
            slot.starts_at = local.replace(tzinfo=zone).astimezone(UTC)
            slot.ends_at = slot.starts_at + length
        moved += 1
    return moved


def _client_activity(now: datetime) -> None:
    """Each demo contact has already acted on their first job through the real services, so
    recruiters start with tasks, alerts and a timeline: an interview request, a hire request,
    a reject with a reason (past its undo window)."""
    from datetime import time

    from .services import client_actions

    for contact in db.session.scalars(select(ClientContact).order_by(ClientContact.id)):
        job = _job_with_shared_candidates(contact)
        if job is None:
            continue
        waiting = db.session.scalars(
            select(Application)
            .join(SharedProfile, SharedProfile.application_id == Application.id)
            .where(Application.job_id == job.id, Application.client_status == "awaiting_review")
            .order_by(Application.id)
            .limit(3)
        ).all()
        if len(waiting) < 3:
            continue
        interview, hire, reject = waiting
        client_actions.rate(contact, interview, 5, now=now)
        day = (now + timedelta(days=3)).date()
        client_actions.request_interview(
            contact,
            interview,
            interview_format="video",
            timezone_name=contact.timezone,
            notes="Keen to meet.",
            slots=[
                client_actions.SlotInput(day, time(10), 60),
                client_actions.SlotInput(day + timedelta(days=1), time(14), 45),
            ],
            now=now,
        )
        client_actions.rate(contact, hire, 4, now=now)
        client_actions.request_hire(contact, hire, start_date=(now + timedelta(days=30)).date(), now=now)
        client_actions.reject(contact, reject, now=now - timedelta(minutes=5))
        client_actions.explain_reject(
            contact,
            reject,
            reason_id=client_actions.rejection_reasons(contact.agency_id)[0].id,
            comment="Looking for more experience.",
            now=now,
        )


def ensure_pipeline(agency: Agency) -> list[StageDefinition]:
    """Give an agency the default stages and reasons if it has none."""
    if agency.stages:
        return agency.stages
    stages = [StageDefinition(agency=agency, name=name, position=i) for i, name in enumerate(DEFAULT_STAGES)]
    db.session.add_all(stages)
    for i, label in enumerate(REJECTION_REASONS):
        db.session.add(Reason(agency_id=agency.id, kind="rejection", label=label, position=i))
    for i, label in enumerate(LOSS_REASONS):
        db.session.add(
            Reason(
                agency_id=agency.id,
                kind="loss",
                label=label,
                position=i,
                ends_job_search=label == "Already found a job",
            )
        )
    db.session.flush()
    return stages


def _load_agency(spec: dict, rng: random.Random, now: datetime) -> None:
    agency = Agency(
        slug=spec["slug"],
        name=spec["name"],
        primary_color=spec["primary"],
        accent_color=spec["accent"],
        welcome_text=spec["welcome"],
        email_sender_name=spec["name"],
        email_footer=f"{spec['name']} · 1 Demo Street · demo only",
    )
    db.session.add(agency)
    db.session.flush()
    stages = ensure_pipeline(agency)
    for name, body, hidden in PROFILE_TEMPLATES:
        db.session.add(ProfileTemplate(agency_id=agency.id, name=name, body=body, hidden_by_default=hidden))
    db.session.flush()
    reasons = db.session.scalars(select(Reason).where(Reason.agency_id == agency.id, Reason.kind == "rejection")).all()
    admin = User(
        agency_id=agency.id, name=spec["admin"][0], email=spec["admin"][1], role="admin", timezone="Europe/London"
    )
    recruiters = [
        User(
            agency_id=agency.id,
            name=n,
            email=e,
            role="recruiter",
            timezone="Europe/London",
            phone=f"+44 20 7946 0{i:03d}",
        )
        for i, (n, e) in enumerate(spec["recruiters"])
    ]
    for user in [admin, *recruiters]:
        user.set_password(DEMO_PASSWORD)
    db.session.add_all([admin, *recruiters])
    db.session.flush()

    jobs = []
    for company_name, contacts in spec["companies"]:
        company = ClientCompany(agency_id=agency.id, name=company_name)
        db.session.add(company)
        db.session.flush()
        for name, email, zone in contacts:
            db.session.add(
                ClientContact(
                    agency_id=agency.id,
                    company_id=company.id,
                    name=name,
                    email=email,
                    timezone=zone,
                    timezone_source="staff",
                )
            )
        for j, title in enumerate(rng.sample(TITLES, 3)):
            owner = recruiters[j % len(recruiters)]
            job = Job(
                agency_id=agency.id,
                company_id=company.id,
                owner_id=owner.id,
                title=title,
                location=rng.choice(CITIES),
                description=f"{company_name} is hiring a {title}.",
                requisition_id=f"REQ-{company.id}-{j + 1}",
                confidential=(j == 2),
                status="closed" if j == 2 else "open",
                opened_at=now - timedelta(days=rng.randint(5, 60)),
            )
            job.hiring_team = [owner]
            db.session.add(job)
            jobs.append(job)
    db.session.flush()

    for n in range(spec["candidates"]):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        title = rng.choice(TITLES)
        candidate = Candidate(
            agency_id=agency.id,
            first_name=first,
            last_name=last,
            headline=f"{title} · {rng.randint(2, 15)} years",
            current_title=title,
            current_company=rng.choice(["Globex", "Hooli", "Stark", "Wayne", "Vandelay"]),
            location=rng.choice(CITIES),
            source=rng.choice(SOURCES),
            phone=f"+44 7700 9{n:05d}",
            summary=f"{first} is a {title.lower()} who enjoys shipping things.",
            skills=", ".join(rng.sample(SKILLS, 3)),
            notice_period=rng.choice(["Immediate", "1 month", "3 months"]),
            salary_expectation=f"£{rng.randint(35, 110)}k",
            added_via=rng.choice(["user", "import"]),
            timezone=rng.choice(["Europe/London", "America/New_York", "Asia/Kolkata", None]),
        )
        candidate.emails = [
            CandidateEmail(agency_id=agency.id, email=f"{first}.{last}.{n}@{spec['slug']}-people.example".lower())
        ]
        candidate.tags = [CandidateTag(tag=t) for t in rng.sample(SKILLS, 2)]
        db.session.add(candidate)
        db.session.flush()
        for job in rng.sample(jobs, rng.choice([1, 1, 2])):
            _apply(agency, candidate, job, stages, reasons, rng, now)


def _apply(agency, candidate, job, stages, reasons, rng, now) -> None:
    """A past or current application with stage history, maybe shared, maybe closed."""
    reached = rng.randint(0, len(stages) - 2)
    applied = now - timedelta(days=rng.randint(1, 400))
    closed = rng.random() < 0.6 or job.status == "closed"
    application = Application(
        agency_id=agency.id,
        candidate_id=candidate.id,
        job_id=job.id,
        stage_id=stages[reached].id,
        source=candidate.source,
        applied_at=applied,
        # Never in the future: an application is not "last in process" on a day still to come.
        last_activity_at=min(applied + timedelta(days=rng.randint(0, 30)), now - timedelta(hours=1)),
    )
    if closed:
        application.outcome = rng.choice(["rejected_by_client", "rejected_by_agency", "withdrawn"])
        application.reason_id = rng.choice(reasons).id
        application_status.from_history(application)
        application.closed_at = application.last_activity_at
    db.session.add(application)
    db.session.flush()
    previous = None
    for stage in stages[: reached + 1]:
        db.session.add(
            StageHistory(
                agency_id=agency.id,
                application_id=application.id,
                from_stage_id=previous,
                to_stage_id=stage.id,
                moved_at=applied,
            )
        )
        previous = stage.id
    if reached >= 4:
        db.session.add(
            Scorecard(
                agency_id=agency.id,
                application_id=application.id,
                verdict=rng.choice(["strong_yes", "yes", "no", "strong_no"]),
                submitted_at=applied,
            )
        )
    if not closed and reached >= 2 and job.status == "open":
        db.session.add(
            ConsentRecord(
                agency_id=agency.id,
                candidate_id=candidate.id,
                company_id=job.company_id,
                given_at=applied,
                channel="phone",
                method="Phone call",
            )
        )
        templates = db.session.scalars(
            select(ProfileTemplate).where(ProfileTemplate.agency_id == agency.id).order_by(ProfileTemplate.id)
        ).all()
        db.session.add(
            SharedProfile(
                agency_id=agency.id,
                application_id=application.id,
                fields=profile_from_template(application, templates[application.id % len(templates)]),
                shared_at=applied,
            )
        )


def demo_links() -> list[dict]:
    """One record per demo principal: staff sign-in and a client job landing link."""
    from flask import current_app

    base = current_app.config["BASE_URL"].rstrip("/")
    records: list[dict[str, str | None]] = []
    for spec in AGENCIES:
        agency = db.session.scalar(select(Agency).where(Agency.slug == spec["slug"]))
        if agency is None:
            continue
        users = db.session.scalars(select(User).where(User.agency_id == agency.id).order_by(User.id)).all()
        for user in users:
            records.append(
                {
                    "agency": agency.slug,
                    "role": user.role,
                    "email": user.email,
                    "password": DEMO_PASSWORD,
                    "login_url": f"{base}/login?email={user.email}",
                }
            )
        contacts = db.session.scalars(
            select(ClientContact).where(ClientContact.agency_id == agency.id).order_by(ClientContact.id)
        ).all()
        for contact in contacts:
            job = _job_with_shared_candidates(contact)
            records.append(
                {
                    "agency": agency.slug,
                    "role": "client",
                    "company": contact.company.name,
                    "email": contact.email,
                    "url": landing_link(contact, job) if job else None,
                }
            )
    return records


def _job_with_shared_candidates(contact: ClientContact) -> Job | None:
    return db.session.scalar(
        select(Job)
        .join(Application, Application.job_id == Job.id)
        .join(SharedProfile, SharedProfile.application_id == Application.id)
        .where(Job.company_id == contact.company_id, Job.status == "open", SharedProfile.unshared_at.is_(None))
        .order_by(Job.id)
        .limit(1)
    )
