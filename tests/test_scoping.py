"""portal/scoping.py without HTTP: what each kind of principal may load (SPEC "Tenancy", STYLE rule 3)."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask_login import login_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal.extensions import db
from portal.models import Application, Candidate, ClientCompany, ClientContact, Job, SharedProfile, User
from portal.scoping import (
    get_job_or_404,
    get_scoped_or_404,
    get_shared_application_or_404,
    jobs_query,
    principal,
    scoped,
    shared_applications_query,
)
from tests.factories import Tenant, make_application, make_job, make_tenant


@dataclass
class Tenants:
    a: Tenant
    b: Tenant
    a_other_company_application: Application


@pytest.fixture
def tenants(ctx) -> Tenants:
    """Two complete agencies; rows stay attached to the session of the ``ctx`` app context."""
    a, b = make_tenant("alpha-scope"), make_tenant("bravo-scope")
    other = db.session.scalar(select(Application).where(Application.job_id == a.other_job.id))
    return Tenants(a, b, other)


def _job_ids(who) -> set[int]:
    return set(db.session.scalars(jobs_query(who).with_only_columns(Job.id)))


def _application_ids(who) -> set[int]:
    return set(db.session.scalars(shared_applications_query(who).with_only_columns(Application.id)))


@pytest.mark.parametrize(
    "who, visible",
    [
        ("admin", {"job", "other_job", "confidential_job"}),
        ("recruiter", {"job", "other_job", "confidential_job"}),  # owns all three, on every team
        ("outsider", {"job", "other_job"}),  # not on the confidential job's team
        ("contact", {"job", "confidential_job"}),  # company 1's jobs; confidential is a staff notion
        ("other_contact", {"other_job"}),  # company 2's job only
    ],
)
def test_jobs_query_per_principal(tenants, who, visible):
    a, b = tenants.a, tenants.b
    expected = {getattr(a, name).id for name in visible}
    assert _job_ids(getattr(a, who)) == expected
    assert not _job_ids(getattr(a, who)) & {b.job.id, b.other_job.id, b.confidential_job.id}


def test_jobs_query_of_the_other_agency_holds_none_of_this_agencys_jobs(tenants):
    a, b = tenants.a, tenants.b
    a_jobs = {a.job.id, a.other_job.id, a.confidential_job.id}
    for who in (b.admin, b.recruiter, b.outsider, b.contact, b.other_contact):
        assert _job_ids(who), who
        assert not _job_ids(who) & a_jobs, who


def test_jobs_query_defaults_to_the_signed_in_principal(app, tenants):
    a = tenants.a
    with app.test_request_context():
        login_user(a.outsider)
        assert _job_ids(None) == {a.job.id, a.other_job.id}
    with app.test_request_context():
        login_user(a.other_contact)
        assert _job_ids(None) == {a.other_job.id}
        assert _application_ids(None) == {tenants.a_other_company_application.id}


def test_anonymous_principal_is_a_404(app, tenants):
    with app.test_request_context():
        with pytest.raises(NotFound):
            principal()
        with pytest.raises(NotFound):
            jobs_query()
        with pytest.raises(NotFound):
            get_job_or_404(tenants.a.job.id)


def test_confidential_job_visible_to_team_member_and_owner_only(tenants):
    a = tenants.a
    assert a.confidential_job.id not in _job_ids(a.outsider)

    a.confidential_job.hiring_team.append(a.outsider)
    db.session.commit()
    assert a.confidential_job.id in _job_ids(a.outsider)
    assert get_job_or_404(a.confidential_job.id, who=a.outsider) == a.confidential_job

    # Owning a confidential job is enough, even with nobody on its team.
    owned = make_job(a.company, a.outsider, confidential=True)
    owned.hiring_team = []
    db.session.commit()
    assert owned.id in _job_ids(a.outsider)
    assert owned.id not in _job_ids(a.recruiter)
    assert owned.id in _job_ids(a.admin)


def test_shared_applications_query_holds_only_currently_shared_on_own_company(tenants):
    a, b = tenants.a, tenants.b
    assert _application_ids(a.contact) == {a.application.id}  # not the never-shared one
    assert _application_ids(a.other_contact) == {tenants.a_other_company_application.id}
    assert not _application_ids(b.contact) & {a.application.id, tenants.a_other_company_application.id}

    withdrawn = make_application(a.job)
    db.session.commit()
    assert _application_ids(a.contact) == {a.application.id, withdrawn.id}
    withdrawn.shared_profile.unshared_at = datetime.now(UTC)
    db.session.commit()
    assert _application_ids(a.contact) == {a.application.id}


def test_shared_applications_query_includes_confidential_job_of_own_company(tenants):
    a = tenants.a
    on_confidential = make_application(a.confidential_job)
    db.session.commit()
    assert on_confidential.id in _application_ids(a.contact)
    assert on_confidential.id not in _application_ids(a.other_contact)


@pytest.mark.parametrize("who", ["admin", "recruiter", "outsider"])
def test_shared_applications_query_is_for_contacts_only(tenants, who):
    with pytest.raises(NotFound):
        shared_applications_query(getattr(tenants.a, who))


@pytest.mark.parametrize(
    "model, attribute",
    [
        (Job, "job"),
        (ClientContact, "contact"),
        (ClientCompany, "company"),
        (User, "recruiter"),
        (Application, "application"),
    ],
)
def test_get_scoped_or_404_loads_own_agency_rows_only(tenants, model, attribute):
    a, b = tenants.a, tenants.b
    own = getattr(a, attribute)
    assert get_scoped_or_404(model, own.id, who=a.admin) == own
    with pytest.raises(NotFound):
        get_scoped_or_404(model, getattr(b, attribute).id, who=a.admin)
    with pytest.raises(NotFound):
        get_scoped_or_404(model, own.id, who=b.contact)


def test_scoped_uses_the_principals_agency(tenants):
    a, b = tenants.a, tenants.b
    contacts = set(db.session.scalars(scoped(ClientContact, who=a.recruiter)))
    assert contacts == {a.contact, a.other_contact}
    assert contacts.isdisjoint({b.contact, b.other_contact})


@pytest.mark.parametrize(
    "who, job, visible",
    [
        ("admin", "confidential_job", True),
        ("recruiter", "confidential_job", True),
        ("outsider", "confidential_job", False),
        ("outsider", "job", True),
        ("contact", "job", True),
        ("contact", "other_job", False),
        ("other_contact", "job", False),
        ("other_contact", "other_job", True),
    ],
)
def test_get_job_or_404_within_one_agency(tenants, who, job, visible):
    a = tenants.a
    if visible:
        assert get_job_or_404(getattr(a, job).id, who=getattr(a, who)) == getattr(a, job)
    else:
        with pytest.raises(NotFound):
            get_job_or_404(getattr(a, job).id, who=getattr(a, who))


@pytest.mark.parametrize("who", ["admin", "recruiter", "outsider", "contact", "other_contact"])
def test_get_job_or_404_is_404_for_another_agencys_job(tenants, who):
    with pytest.raises(NotFound):
        get_job_or_404(tenants.b.job.id, who=getattr(tenants.a, who))


def test_get_shared_application_or_404(tenants):
    a, b = tenants.a, tenants.b
    assert get_shared_application_or_404(a.application.id, who=a.contact) == a.application
    refused = [
        (a.unshared_application.id, a.contact),  # never shared
        (a.application.id, a.other_contact),  # another company's job
        (b.application.id, a.contact),  # another agency
        (a.application.id, b.contact),
        (a.application.id, a.admin),  # staff have no "shared with me"
    ]
    for application_id, who in refused:
        with pytest.raises(NotFound):
            get_shared_application_or_404(application_id, who=who)

    profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == a.application.id))
    profile.unshared_at = datetime.now(UTC)
    db.session.commit()
    with pytest.raises(NotFound):
        get_shared_application_or_404(a.application.id, who=a.contact)


def test_candidates_on_confidential_jobs_only_are_hidden_from_recruiters_off_the_team(app):
    """A person whose only application is on a confidential job is not shown (or addable from search)
    to a recruiter off that job's team; the team, admins and people with other applications are."""
    from werkzeug.exceptions import NotFound

    from portal.scoping import candidates_query, get_candidate_or_404
    from portal.services import ServiceError
    from portal.services.search import add_to_shortlist
    from tests.factories import make_application, make_candidate, make_tenant

    with app.app_context():
        tenant = make_tenant("confco")
        secret = make_application(tenant.confidential_job).candidate
        loner = make_candidate(tenant.agency)
        db.session.commit()
        outsider_sees = set(db.session.scalars(candidates_query(tenant.outsider).with_only_columns(Candidate.id)))
        assert secret.id not in outsider_sees and loner.id in outsider_sees
        assert tenant.application.candidate_id in outsider_sees
        with pytest.raises(NotFound):
            get_candidate_or_404(secret.id, tenant.outsider)
        assert get_candidate_or_404(secret.id, tenant.recruiter).id == secret.id
        assert get_candidate_or_404(secret.id, tenant.admin).id == secret.id
        with pytest.raises(ServiceError, match="no longer exist"):
            add_to_shortlist(tenant.outsider, tenant.job.id, [secret.id])
        assert add_to_shortlist(tenant.admin, tenant.job.id, [secret.id]) == 1


def test_admin_lists_hold_only_the_principals_agency(tenants):
    """The admin pages' lists (users, clients, profile templates, recent changes, unsent mail)."""
    from portal.models import Activity, MailOutbox, ProfileTemplate
    from portal.scoping import admin_changes, agency_profile_templates, agency_users, client_companies, unsent_mail

    for tenant in (tenants.a, tenants.b):
        agency_id = tenant.agency.id
        db.session.add(ProfileTemplate(agency_id=agency_id, name="Standard", body="{name}"))
        db.session.add(Activity(agency_id=agency_id, verb="admin.stage_added", summary="added a stage"))
        db.session.add(Activity(agency_id=agency_id, verb="application.moved", summary="not configuration"))
        for status in ("failed", "sent"):
            db.session.add(
                MailOutbox(
                    agency_id=agency_id,
                    kind="alert",
                    sender="portal@localhost",
                    recipients=["someone@example.com"],
                    subject=status,
                    text_body="",
                    status=status,
                )
            )
    db.session.commit()
    a, admin = tenants.a, tenants.a.admin
    assert {u.id for u in agency_users(admin)} == {a.admin.id, a.recruiter.id, a.outsider.id}
    assert {c.id for c in client_companies(admin)} == {a.company.id, a.other_company.id}
    assert [t.agency_id for t in agency_profile_templates(admin)] == [a.agency.id]
    assert [(e.agency_id, e.verb) for e in admin_changes(who=admin)] == [(a.agency.id, "admin.stage_added")]
    assert [(m.agency_id, m.subject) for m in unsent_mail(who=admin)] == [(a.agency.id, "failed")]
