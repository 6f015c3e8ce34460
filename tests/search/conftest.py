"""Search fixtures: an app with its own Meilisearch index per test, and a hand-built world."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, Reason, Scorecard, StageHistory
from search_sync.client import meili_client
from search_sync.sync import drain
from tests.factories import make_agency, make_candidate, make_company, make_job, make_user


@pytest.fixture
def search_app(make_app, meili):
    """The app with an index of its own (ids restart between tests; documents must not)."""
    name = f"test_{uuid.uuid4().hex[:10]}"
    app = make_app(MEILI_INDEX=name, SEARCH_BACKOFF_SECONDS=0)
    yield app
    with app.app_context():
        for uid in (name, name + "_new"):
            meili_client(timeout=5).delete_index(uid)


@pytest.fixture
def sctx(search_app):
    """An application context of ``search_app``."""
    with search_app.app_context():
        yield search_app
        db.session.remove()


def index_now() -> dict:
    """Drain the outbox into Meilisearch, as the worker does, and insist nothing failed."""
    result = drain()
    assert not result["failed"] and not result["paused"], result
    return result


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class World:
    """Known people with known answers (ids are filled in by ``build_world``)."""

    agency: object
    admin: object
    recruiter: object
    outsider: object
    job5: object
    job7: object
    secret_job: object
    stages: dict
    reasons: dict
    people: dict


def apply(
    candidate,
    job,
    stage_name,
    world_stages,
    *,
    outcome="rejected_by_agency",
    reason=None,
    last_activity=None,
    source="LinkedIn",
    verdicts=(),
):
    """An application that went through every stage up to ``stage_name`` (history included)."""
    stage = world_stages[stage_name]
    application = Application(
        agency_id=job.agency_id,
        candidate_id=candidate.id,
        job_id=job.id,
        stage_id=stage.id,
        outcome=outcome,
        reason_id=reason.id if reason else None,
        source=source,
        applied_at=at("2024-01-01T00:00:00"),
        last_activity_at=last_activity or at("2024-06-01T12:00:00"),
    )
    db.session.add(application)
    db.session.flush()
    for s in sorted(world_stages.values(), key=lambda s: s.position):
        if s.position <= stage.position:
            db.session.add(StageHistory(agency_id=job.agency_id, application_id=application.id, to_stage_id=s.id))
    for verdict in verdicts:
        db.session.add(Scorecard(agency_id=job.agency_id, application_id=application.id, verdict=verdict))
    db.session.flush()
    return application


def build_world() -> World:
    """The fixture set of the filter tests (see each person's comment for why it exists)."""
    agency = make_agency("searchers")
    admin, recruiter, outsider = make_user(agency, "admin"), make_user(agency), make_user(agency)
    company = make_company(agency)
    job5 = make_job(company, recruiter, title="Backend Engineer")
    job7 = make_job(company, recruiter, title="Sales Lead")
    secret_job = make_job(company, recruiter, title="Stealth CFO", confidential=True)
    stages = {s.name: s for s in agency.stages}
    reasons = {r.label: r for r in db.session.scalars(select(Reason).where(Reason.agency_id == agency.id))}
    people = {}

    # The flattening trap: job 5 at stage 1 and job 7 at stage 4 (Interview). Tags, text, scorecards 2/3.
    trap = people["trap"] = make_candidate(
        agency, first_name="Tristan", last_name="Trap", headline="Kubernetes wizard", location="London, UK"
    )
    trap.tags = []
    db.session.flush()
    from portal.models import CandidateTag

    trap.tags = [CandidateTag(tag="python"), CandidateTag(tag="sql")]
    apply(trap, job5, "Screening", stages, reason=reasons["Culture fit"], last_activity=at("2024-02-01T00:00:00"))
    apply(
        trap,
        job7,
        "Interview",
        stages,
        reason=reasons["Not enough experience"],
        last_activity=at("2024-03-01T00:00:00"),
        verdicts=("yes", "yes", "no"),
        source="Referral",
    )

    # Visible only through a confidential job: the hiring team and admins only.
    secret = people["secret"] = make_candidate(agency, first_name="Sybil", last_name="Secret", location="Berlin, DE")
    apply(secret, secret_job, "Offer", stages, reason=reasons["Culture fit"])

    # Public and confidential applications: the confidential one's reason must not leak.
    mixed = people["mixed"] = make_candidate(agency, first_name="Mina", last_name="Mixed", location="London, UK")
    apply(mixed, job5, "Submitted", stages, reason=reasons["Salary expectations too high"])
    apply(mixed, secret_job, "Offer", stages, reason=reasons["Failed the assessment"], verdicts=("strong_no",))

    # The source document's two-application example: A reached Interview then rejected; B later,
    # only Client review: the columns show B (the most recent activity), "reached Interview" still matches.
    recent = people["recent"] = make_candidate(agency, first_name="Rhea", last_name="Recent", location="Dublin, IE")
    apply(
        recent,
        job5,
        "Interview",
        stages,
        reason=reasons["Failed the assessment"],
        last_activity=at("2025-01-10T00:00:00"),
        verdicts=("strong_no",),
    )
    apply(
        recent,
        job7,
        "Client review",
        stages,
        reason=reasons["Did not attend the interview"],
        last_activity=at("2025-03-01T00:00:00"),
        source="Job board",
    )

    # Cool-off boundary: last activity exactly at midnight UTC of 2025-06-01.
    cool = people["cool"] = make_candidate(agency, first_name="Cora", last_name="Cool", location="Remote")
    apply(cool, job7, "Sourced", stages, reason=reasons["Culture fit"], last_activity=at("2025-06-01T00:00:00"))

    # In process right now: hidden unless "Include active candidates".
    active = people["active"] = make_candidate(agency, first_name="Ari", last_name="Active", location="Remote")
    apply(active, job5, "Screening", stages, outcome=None, last_activity=at("2025-07-01T00:00:00"))

    # Never shown: private, or hired.
    people["private"] = make_candidate(agency, first_name="Pia", last_name="Private", private=True)
    hired = people["hired"] = make_candidate(agency, first_name="Hugo", last_name="Hired")
    apply(hired, job7, "Hired", stages, outcome="hired")
    db.session.commit()
    return World(agency, admin, recruiter, outsider, job5, job7, secret_job, stages, reasons, people)
