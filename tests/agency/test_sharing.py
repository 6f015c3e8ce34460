"""Sharing (A2, A2a): guards, template profiles, bulk share/unshare, "Send online"."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Activity, ConsentRecord, ProfileTemplate, Resume, SharedProfile
from portal.scoping import shared_applications_query
from portal.services import ServiceError
from portal.services.sharing import (
    bulk_share,
    bulk_unshare,
    profile_from_template,
    send_online,
    share_candidate,
    share_guards,
    unshare_candidate,
)
from portal.worker import deliver_mail
from tests.factories import make_application, make_candidate, make_company, make_job

UTC = UTC


def _consent(application, company_id=None):
    db.session.add(
        ConsentRecord(
            agency_id=application.agency_id,
            candidate_id=application.candidate_id,
            company_id=company_id,
            given_at=datetime(2026, 1, 5, tzinfo=UTC),
            method="Phone call",
        )
    )
    db.session.flush()


def test_guards_show_prior_submissions_rejections_and_consent(desk):
    earlier_job = make_job(desk.job.company, desk.recruiter, title="Earlier Role")
    make_application(earlier_job, desk.candidate, outcome="rejected_by_client", client_status="rejected_by_client")
    other_client_job = make_job(make_company(desk.recruiter.agency), desk.recruiter, title="Elsewhere")
    make_application(other_client_job, desk.candidate)
    fresh = make_application(make_job(desk.job.company, desk.recruiter), desk.candidate, shared=False)
    guards = share_guards(fresh)
    assert [(s.job_title, s.outcome) for s in guards.submissions] == [
        ("Widget Engineer", "in process"),
        ("Earlier Role", "rejected by the client"),
    ]
    assert [r.job_title for r in guards.rejections] == ["Earlier Role"]
    assert guards.consent is None and guards.needs_override
    _consent(fresh, desk.job.company_id)
    assert share_guards(fresh).consent.method == "Phone call"


@pytest.mark.parametrize(
    "override, message",
    [
        (
            None,
            (
                "No consent to present Kavya Rao to Hudson Widgets is recorded. Record consent, or give a reason to "
                "share anyway (at least 5 characters)."
            ),
        ),
        (
            "ok",
            (
                "No consent to present Kavya Rao to Hudson Widgets is recorded. Record consent, or give a reason to "
                "share anyway (at least 5 characters)."
            ),
        ),
    ],
)
def test_share_without_consent_needs_an_override_reason(desk, override, message):
    application = make_application(make_job(desk.job.company, desk.recruiter), desk.candidate, shared=False)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        share_candidate(application, desk.recruiter, consent_override_reason=override)
    assert refused.value.message == message and refused.value.field == "consent_override_reason"
    assert application.shared_profile is None


def test_override_is_logged_and_the_profile_comes_from_the_template(desk):
    db.session.add(
        ProfileTemplate(
            agency_id=desk.job.agency_id,
            name="Standard",
            body="Candidate: {first_name} {last_name}\nSkills: {skills}\nEmail: {email}",
            hidden_by_default="email",
        )
    )
    desk.candidate.skills = "Python, SQL"
    application = make_application(make_job(desk.job.company, desk.recruiter), desk.candidate, shared=False)
    fields = profile_from_template(application)
    assert fields == [
        {"label": "Candidate", "value": "Kavya Rao", "hidden": False, "contact": False},
        {"label": "Skills", "value": "Python, SQL", "hidden": False, "contact": False},
        {"label": "Email", "value": desk.candidate.primary_email, "hidden": False, "contact": True},
    ]
    profile = share_candidate(application, desk.recruiter, consent_override_reason="Verbal consent on the phone")
    assert profile.fields == fields and profile.show_contact_details is False
    assert profile.consent_override_reason == "Verbal consent on the phone"
    entry = db.session.scalar(select(Activity).where(Activity.verb == "candidate.shared"))
    assert "override: Verbal consent on the phone" in entry.summary


def test_edited_fields_resume_choice_and_foreign_resume_refused(desk):
    application = make_application(make_job(desk.job.company, desk.recruiter), desk.candidate, shared=False)
    _consent(application)
    stranger = make_candidate(desk.recruiter.agency)
    theirs = Resume(agency_id=stranger.agency_id, candidate_id=stranger.id, filename="x.pdf", content=b"%PDF")
    mine = Resume(agency_id=stranger.agency_id, candidate_id=desk.candidate.id, filename="k.pdf", content=b"%PDF")
    db.session.add_all([theirs, mine])
    db.session.commit()
    with pytest.raises(ServiceError, match="Choose one of this candidate's resumes"):
        share_candidate(application, desk.recruiter, resume_id=theirs.id)
    profile = share_candidate(
        application,
        desk.recruiter,
        resume_id=mine.id,
        fields=[{"label": "Summary", "value": "Edited by hand", "hidden": "yes"}, {"label": " ", "value": "dropped"}],
    )
    assert (profile.resume_id, profile.fields) == (
        mine.id,
        [{"label": "Summary", "value": "Edited by hand", "hidden": True, "contact": False}],
    )


def test_unshare_removes_from_the_portal_immediately(desk):
    visible = lambda: db.session.scalars(shared_applications_query(desk.contact)).all()  # noqa: E731
    assert [a.id for a in visible()] == [desk.application.id]
    unshare_candidate(desk.application, desk.recruiter)
    assert visible() == []
    with pytest.raises(ServiceError, match="is not shared"):
        unshare_candidate(desk.application, desk.recruiter)


def test_bulk_share_is_all_or_nothing_and_bulk_unshare(desk):
    with_consent = make_application(desk.job, shared=False)
    _consent(with_consent)
    without = make_application(desk.job, shared=False)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        bulk_share(desk.job, [with_consent.id, without.id], desk.recruiter)
    assert refused.value.message.startswith("Nothing was shared. No consent to present")
    assert db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == with_consent.id)) is None
    bulk_share(desk.job, [with_consent.id, without.id], desk.recruiter, consent_override_reason="Client asked by name")
    assert len(db.session.scalars(shared_applications_query(desk.contact)).all()) == 3
    bulk_unshare(desk.job, [with_consent.id, without.id], desk.recruiter)
    assert len(db.session.scalars(shared_applications_query(desk.contact)).all()) == 1
    with pytest.raises(ServiceError, match="Select at least one candidate"):
        bulk_share(desk.job, [], desk.recruiter)


def test_send_online_emails_the_landing_link_and_only_newly_shared(desk, smtp):
    assert send_online(desk.job, [desk.contact.id], desk.recruiter) == 1
    db.session.commit()
    with pytest.raises(ServiceError, match="No newly shared candidates"):
        send_online(desk.job, [desk.contact.id], desk.recruiter)
    newcomer = make_application(desk.job, shared=False)
    share_candidate(newcomer, desk.recruiter, consent_override_reason="Consent by email")
    db.session.commit()
    send_online(desk.job, [desk.contact.id], desk.recruiter)
    db.session.commit()
    assert deliver_mail() == 2
    first, second = smtp.inbox.wait_for(2)
    texts = [m["message"].get_body(preferencelist=("plain",)).get_content() for m in (first, second)]
    assert "Kavya Rao" in texts[0] and "Kavya Rao" not in texts[1] and newcomer.candidate.name in texts[1]
    assert f"/{desk.recruiter.agency.slug}/link/" in texts[1]


def test_share_guards_do_not_name_confidential_jobs_the_viewer_cannot_see(app):
    from portal.services.sharing import share_guards
    from tests.factories import make_application, make_tenant, make_user

    with app.app_context():
        tenant = make_tenant("guardco")
        person = tenant.application.candidate
        make_application(tenant.confidential_job, candidate=person)
        outsider = make_user(tenant.agency)
        db.session.commit()
        titles = [entry.job_title for entry in share_guards(tenant.application, outsider).submissions]
        assert titles == ["a confidential job"]
        assert [e.job_title for e in share_guards(tenant.application, tenant.recruiter).submissions] == [
            tenant.confidential_job.title
        ]
