"""What the client sees (A2, C5, C10) over HTTP with real signed-in sessions: contact details by the
share's typed flag whatever the line labels, the share-form preview, every client route after an
unshare, and every page, partial and e-mail of the demo data for each of its profile templates."""

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from portal.demo import load_demo
from portal.extensions import db
from portal.models import (
    Application,
    ClientContact,
    ConsentRecord,
    InterviewRequest,
    Job,
    MailOutbox,
    ProfileTemplate,
    Resume,
    SharedProfile,
    User,
    utcnow,
)
from portal.services.auth import landing_link
from portal.services.client_profile import client_profile
from portal.services.interviews import confirm_interview
from portal.services.sharing import newly_shared, profile_from_template, send_online, share_candidate, unshare_candidate
from tests.conftest import CSRF_INPUT, csrf_token, login_as
from tests.factories import PASSWORD, make_tenant

HX = {"HX-Request": "true"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(client, contact: ClientContact, job: Job) -> None:
    """The real way in: the landing link's "Continue" page, then its POST (C2a)."""
    path = urlsplit(landing_link(contact, job)).path
    db.session.commit()
    page = client.get(path).get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token, "no Continue form on the landing page"
    answer = client.post(path, data={"csrf_token": next(g for g in token.groups() if g)})
    assert answer.status_code in (302, 303), answer.status_code


def secrets_of(application: Application) -> list[str]:
    """Contact details in the forms a page could print them."""
    candidate = application.candidate
    values = [e.email for e in candidate.emails]
    if candidate.phone:
        values += [candidate.phone, re.sub(r"\D", "", candidate.phone)]
    return values


def body_and_headers(response) -> str:
    return response.get_data(as_text=True) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


# --- contact details by the typed flag ------------------------------------------------------------


@pytest.fixture
def relabelled(app, client):
    """A candidate shared with contact lines under other labels, from a template that uses them."""
    with app.app_context():
        tenant = make_tenant("labelco")
        candidate = tenant.application.candidate
        candidate.phone = "+44 7700 900456"
        db.session.add(
            ProfileTemplate(
                agency_id=tenant.agency.id,
                name="Relabelled",
                body="Who: {name}\nE-mail: {email}\nMobile: {phone}\nReach: {first_name} on {phone}\nSkills: Python",
                hidden_by_default="",
            )
        )
        db.session.flush()
        share_candidate(tenant.application, tenant.recruiter, consent_override_reason="Verbal consent")
        db.session.commit()
        sign_in(client, tenant.contact, tenant.job)
        yield tenant


def candidate_page(client, tenant) -> str:
    response = client.get(f"/{tenant.agency.slug}/portal/candidates/{tenant.application.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_relabelled_contact_lines_are_withheld_until_hire(app, client, relabelled):
    page = candidate_page(client, relabelled)
    with app.app_context():
        application = db.session.get(Application, relabelled.application.id)
        secrets = secrets_of(application)
        name = application.candidate.name
    assert name in page and "Python" in page
    for secret in secrets:
        assert secret not in page
    assert "E-mail" not in page and "Mobile" not in page and "Reach" not in page
    with app.app_context():
        db.session.get(Application, relabelled.application.id).client_status = "hired"
        db.session.commit()
    page = candidate_page(client, relabelled)
    assert secrets[0] in page and "+44 7700 900456" in page and "Mobile" in page


def test_the_flag_shows_contact_details_before_hire_and_a_typed_in_phone_counts(app, client, relabelled):
    with app.app_context():
        application = db.session.get(Application, relabelled.application.id)
        recruiter = db.session.get(User, relabelled.recruiter.id)
        fields = [
            {"label": "Notes", "value": "Call 07700 900456 after six"},  # typed in: still a contact line
            {"label": "Skills", "value": "Python"},
        ]
        share_candidate(application, recruiter, fields=fields, consent_override_reason="Verbal consent")
        db.session.commit()
        assert [line["contact"] for line in application.shared_profile.fields] == [True, False]
    page = candidate_page(client, relabelled)
    assert "900456" not in page and "Python" in page
    with app.app_context():
        application = db.session.get(Application, relabelled.application.id)
        recruiter = db.session.get(User, relabelled.recruiter.id)
        share_candidate(
            application, recruiter, fields=fields, show_contact_details=True, consent_override_reason="Verbal consent"
        )
        db.session.commit()
        email = application.candidate.primary_email
    page = candidate_page(client, relabelled)
    assert "Call 07700 900456 after six" in page and email in page
    # The phone is in a shown line already, so it is not repeated as its own row.
    assert "+44 7700 900456" not in page


def test_share_form_previews_exactly_what_the_client_sees(app, client, relabelled):
    with app.app_context():
        login_as(client, db.session.get(User, relabelled.recruiter.id))
        application = db.session.get(Application, relabelled.application.id)
        email = application.candidate.primary_email
        view = client_profile(application, anonymous=False)
        shown = [(line.label, line.value) for line in view.shown_lines]
    path = f"/agency/applications/{relabelled.application.id}/share"
    form = client.get(path).get_data(as_text=True)
    preview = form[form.index('id="share-preview"') :]
    for label, value in shown:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in preview
    assert email not in preview and "+44 7700 900456" not in preview
    assert "E-mail: contact details" in preview and "Mobile: contact details" in preview
    assert 'name="show_contact_details"' in form
    data = {"csrf_token": csrf_token(client), "preview": "1", "show_contact_details": "y"}
    for i, (label, value) in enumerate(
        [("E-mail", email), ("Mobile", "+44 7700 900456"), ("Skills", "Python"), ("Salary", "£80k")]
    ):
        data |= {f"fields-{i}-label": label, f"fields-{i}-value": value}
    data["fields-3-hidden"] = "y"
    previewed = client.post(path, data=data, headers=HX)
    html = previewed.get_data(as_text=True)
    preview = html[html.index('id="share-preview"') :]
    assert previewed.status_code == 200 and "<html" not in html
    assert f"<dt>E-mail</dt><dd>{email}</dd>" in preview and "<dt>Mobile</dt><dd>+44 7700 900456</dd>" in preview
    assert "£80k" not in preview and "Salary: hidden by you" in preview
    with app.app_context():  # a preview shares nothing new
        assert db.session.get(Application, relabelled.application.id).shared_profile.show_contact_details is False


# --- every client route after an unshare ------------------------------------------------------------


def test_every_client_route_for_an_unshared_candidate_shows_nothing_of_them(app, client):
    with app.app_context():
        tenant = make_tenant("gonecoo")
        application = tenant.application
        candidate = application.candidate
        candidate.first_name, candidate.last_name = "Zebedee", "Quartermain"
        candidate.phone = "+44 7700 900777"
        candidate.summary, candidate.skills, candidate.salary_expectation = "Unique-summary", "Unique-skill", "£123k"
        db.session.add(Resume(agency_id=tenant.agency.id, candidate_id=candidate.id, filename="cv.pdf", content=PDF))
        db.session.flush()
        share_candidate(
            application,
            tenant.recruiter,
            fields=profile_from_template(application),
            show_contact_details=True,
            consent_override_reason="Verbal consent",
        )
        db.session.commit()
        sign_in(client, tenant.contact, tenant.job)
        shown = client.get(f"/gonecoo/portal/candidates/{application.id}").get_data(as_text=True)
        secrets = ["Zebedee", "Quartermain", "Unique-summary", "Unique-skill", "£123k", *secrets_of(application)]
        assert all(secret in shown for secret in secrets[:5]), "the walk needs the data on the page first"
        unshare_candidate(application, tenant.recruiter)
        db.session.commit()
        rules = [
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("client.") and rule.arguments & {"application_id", "candidate_id"}
        ]
        values = {"slug": "gonecoo", "application_id": application.id, "candidate_id": candidate.id}
    assert {rule.endpoint for rule in rules} >= {
        "client.candidate",
        "client.resume",
        "client.rate",
        "client.comment",
        "client.request_interview",
        "client.hire",
        "client.reject",
        "client.undo_reject",
        "client.reject_reason",
    }
    form = {"stars": "4", "body": "Hello", "format": "video", "timezone": "UTC", "on": "job"}
    token = csrf_token(client)
    checked = 0
    for rule in rules:
        path = rule.build(values)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            for headers in ({}, HX):
                if method == "POST":
                    response = client.post(path, data={**form, "csrf_token": token}, headers=headers)
                    assert response.status_code == 409, (path, response.status_code)
                    assert "no longer shared with you" in response.get_data(as_text=True)
                else:
                    response = client.get(path, headers=headers)
                    assert response.status_code == 404, (path, response.status_code)
                text = body_and_headers(response)
                leaked = [secret for secret in secrets if secret in text]
                assert not leaked, (method, path, leaked)
                checked += 1
    assert checked >= 2 * 10


# --- the demo data: every profile template, every page, every e-mail ---------------------------------


def client_pages(client, app, slug: str, job: Job, application: Application) -> list[tuple[str, object]]:
    """Every client GET route with the job's and the candidate's ids, as a page and as a fragment."""
    values = {"slug": slug, "job_id": job.id, "application_id": application.id}
    responses = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("client.") or "GET" not in rule.methods:
            continue
        if not rule.arguments <= set(values):
            continue
        path = rule.build({k: values[k] for k in rule.arguments})[1]
        if rule.endpoint == "client.job_cards":
            path += f"?group={application.stage_id}&offset=0"
        for headers in ({}, HX):
            responses.append((f"GET {path} {headers}", client.get(path, headers=headers)))
    return responses


def client_actions(client, slug: str, application: Application, day) -> list[tuple[str, object]]:
    """The client's actions on the candidate, as htmx requests from the job page and the candidate page."""
    base = f"/{slug}/portal/candidates/{application.id}"
    token = csrf_token(client)
    posts = [
        ("/rating", {"stars": "4", "on": "job"}),
        ("/rating", {"stars": "5"}),
        ("/comments", {"body": "Strong profile."}),
        ("/interview", {"add_slot": "1", "format": "video", "timezone": "UTC"}),
        ("/reject", {"on": "job"}),
        ("/reject-reason", {"comment": "Too far away", "on": "job"}),
        ("/undo-reject", {"on": "job"}),
        (
            "/interview",
            {
                "format": "video",
                "timezone": "UTC",
                "slots-0-day": day.isoformat(),
                "slots-0-start": "10:00",
                "slots-0-minutes": "60",
            },
        ),
    ]
    responses = []
    for suffix, data in posts:
        for headers in (HX, {}):
            response = client.post(base + suffix, data={**data, "csrf_token": token}, headers=headers)
            assert response.status_code < 500, (suffix, response.status_code)
            responses.append((f"POST {suffix} {headers}", response))
    return responses


def test_no_hidden_value_reaches_the_client_for_any_demo_profile_template(app):
    now = utcnow()
    with app.app_context():
        assert load_demo(now=now) is True
        db.session.commit()
        templates = db.session.scalars(select(ProfileTemplate).order_by(ProfileTemplate.id)).all()
        assert len(templates) >= 3 * 2
        plan = []
        for template in templates:
            used = [application_id for application_id, *_ in plan]
            application = db.session.scalar(
                select(Application)
                .join(Job, Job.id == Application.job_id)
                .join(SharedProfile, SharedProfile.application_id == Application.id)
                .where(
                    Application.agency_id == template.agency_id,
                    Job.status == "open",
                    Job.confidential.is_(False),
                    Application.client_status == "awaiting_review",
                    Application.outcome.is_(None),
                    Application.id.not_in(used or [0]),
                )
                .order_by(Application.id)
                .limit(1)
            )
            assert application is not None, template.name
            contact = db.session.scalar(
                select(ClientContact)
                .where(ClientContact.company_id == application.job.company_id, ClientContact.active.is_(True))
                .order_by(ClientContact.id)
                .limit(1)
            )
            owner = db.session.get(User, application.job.owner_id)
            assert db.session.scalar(
                select(ConsentRecord.id).where(ConsentRecord.candidate_id == application.candidate_id).limit(1)
            )
            share_candidate(application, owner, fields=profile_from_template(application, template), now=now)
            db.session.commit()
            view = client_profile(application, anonymous=False)
            hidden = secrets_of(application) + [line.value for line in view.withheld_lines if line.value]
            assert hidden and not view.contact_visible and view.email is None and view.phone is None
            plan.append((application.id, contact.id, application.job_id, template.name, hidden))

    for index, (application_id, contact_id, job_id, template_name, hidden) in enumerate(plan):
        client = app.test_client()  # each contact in a browser of their own
        with app.app_context():
            contact = db.session.get(ClientContact, contact_id)
            job = db.session.get(Job, job_id)
            application = db.session.get(Application, application_id)
            slug = contact.agency.slug
            owner = db.session.get(User, job.owner_id)
            sign_in(client, contact, job)
            if newly_shared(job):  # announced already when an earlier template shared on this job
                send_online(job, [contact.id], owner)
            db.session.commit()
            responses = client_pages(client, app, slug, job, application)
            responses += client_actions(client, slug, application, (now + timedelta(days=10 + index)).date())
            request = db.session.scalar(
                select(InterviewRequest).where(
                    InterviewRequest.application_id == application_id, InterviewRequest.status == "open"
                )
            )
            assert request is not None, "the interview request went through"
            confirm_interview(
                request, owner, slot_id=request.proposed_slots[0].id, meeting_link="https://meet.example/x"
            )
            db.session.commit()
            responses += client_pages(client, app, slug, job, application)
            mails = [
                m
                for m in db.session.scalars(select(MailOutbox).where(MailOutbox.agency_id == contact.agency_id))
                if contact.email in m.recipients
            ]
            kinds = {m.kind for m in mails}
        assert any(r.status_code == 200 and "candidate" in what for what, r in responses)
        assert "job.sent_online" in kinds and any(kind.startswith("interview.request") for kind in kinds), kinds
        for what, response in responses:
            text = body_and_headers(response)
            leaked = [value for value in hidden if value in text]
            assert not leaked, (template_name, what, leaked)
        for mail in mails:
            text = "\n".join(
                [mail.subject, mail.text_body, mail.html_body or "", *(a["content"] for a in mail.attachments)]
            )
            leaked = [value for value in hidden if value in text]
            assert not leaked, (template_name, mail.kind, leaked)


# --- downloads and redirects ------------------------------------------------------------------------


def test_a_non_latin_name_downloads_with_rfc_6266_filename_star(app, client):
    with app.app_context():
        tenant = make_tenant("unicodeco")
        candidate = tenant.application.candidate
        candidate.first_name, candidate.last_name = "王伟", "Łukasz-Wójcik"
        resume = Resume(agency_id=tenant.agency.id, candidate_id=candidate.id, filename="cv.pdf", content=PDF)
        db.session.add(resume)
        db.session.flush()
        tenant.application.shared_profile.resume_id = resume.id
        db.session.commit()
        sign_in(client, tenant.contact, tenant.job)
        application_id = tenant.application.id
    for query, kind in (("?download=1", "attachment"), ("", "inline")):
        response = client.get(f"/unicodeco/portal/candidates/{application_id}/resume{query}")
        assert response.status_code == 200 and response.data == PDF
        disposition = response.headers["Content-Disposition"]
        expected = quote("王伟 Łukasz-Wójcik - resume.pdf", safe="")
        assert disposition == f"{kind}; filename=\"ukasz-Wojcik - resume.pdf\"; filename*=UTF-8''{expected}"


def test_a_non_ascii_next_survives_the_htmx_redirect(app, client):
    from tests.factories import make_agency, make_user

    with app.app_context():
        user = make_user(make_agency("nextco"))
        db.session.commit()
        email = user.email
    token = csrf_token(client)
    target = "/agency/search?q=Müller Straße"
    answer = client.post(
        f"/login?next={quote(target)}",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        headers=HX,
    )
    assert answer.status_code == 204, answer.get_data(as_text=True)
    assert answer.headers["HX-Redirect"] == "/agency/search?q=M%C3%BCller%20Stra%C3%9Fe"
    browser = app.test_client()
    plain = browser.post(
        f"/login?next={quote(target)}", data={"csrf_token": csrf_token(browser), "email": email, "password": PASSWORD}
    )
    assert plain.status_code == 303 and plain.headers["Location"] == "/agency/search?q=M%C3%BCller%20Stra%C3%9Fe"
