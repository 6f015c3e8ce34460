"""Fixtures for the agency workspace tests: one agency with people in three zones."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import Application, Candidate, ClientContact, Job, User
from tests.factories import (
    make_agency,
    make_application,
    make_candidate,
    make_company,
    make_contact,
    make_job,
    make_user,
)

# A Friday, before the US daylight-saving change of Sunday 8 March 2026.
FRIDAY_BEFORE_US_DST = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


@dataclass
class Desk:
    """A recruiter in London, a client contact in New York, a candidate in Kolkata."""

    recruiter: User
    admin: User
    contact: ClientContact
    job: Job
    candidate: Candidate
    application: Application


@pytest.fixture
def desk(ctx) -> Desk:
    agency = make_agency("desk", name="Desk Recruiting")
    recruiter = make_user(agency, name="Rhea Recruiter", timezone="Europe/London")
    admin = make_user(agency, "admin", name="Ada Admin", timezone="Europe/London")
    company = make_company(agency, name="Hudson Widgets")
    contact = make_contact(company, name="Nia Newyork", timezone="America/New_York")
    job = make_job(company, recruiter, title="Widget Engineer")
    candidate = make_candidate(agency, first_name="Kavya", last_name="Rao", timezone="Asia/Kolkata")
    application = make_application(job, candidate)
    db.session.commit()
    return Desk(recruiter, admin, contact, job, candidate, application)
