"""The candidate's comment thread with the client, from the agency's side (issue 13 item 3, C6):
each client comment alerts the job owner with its words, shows on the agency's candidate page and
on the task, and the agency answers in the same thread, read by that job's contacts only, and
only while the candidate is shared. Over HTTP, with real sessions."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Alert, Application, ClientCompany, ClientContact, Comment, SharedProfile, User, utcnow
from portal.services import client_actions
from portal.services.tasks import task_for_interview_request
from portal.worker import deliver_mail
from tests.conftest import csrf_token, login_as
from tests.factories import make_contact, make_interview_request, make_tenant

HX = {"HX-Request": "true"}
SLOT = datetime(2027, 3, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context():
        a, b = make_tenant("threadco"), make_tenant("elsewhere")
        request = make_interview_request(a.application, a.contact, [(SLOT, SLOT + timedelta(hours=1))])
        db.session.commit()
        return SimpleNamespace(
            slug=a.agency.slug,
            agency_name=a.agency.name,
            application_id=a.application.id,
            candidate_id=a.application.candidate_id,
            task_id=task_for_interview_request(request.id).id,
            recruiter_id=a.recruiter.id,
            recruiter_email=a.recruiter.email,
            contact_id=a.contact.id,
            contact_name=a.contact.name,
            other_contact_id=a.other_contact.id,
            company_id=a.company.id,
            b_recruiter_id=b.recruiter.id,
            b_contact_id=b.contact.id,
        )


def signed_in(app, model, principal_id):
    client = app.test_client()
    with app.app_context():
        login_as(client, db.session.get(model, principal_id))
    return client


def client_url(w, suffix=""):
    return f"/{w.slug}/portal/candidates/{w.application_id}{suffix}"


def thread_url(w):
    return f"/agency/applications/{w.application_id}/client-comments"


def post(client, path, data, htmx=True):
    return client.post(path, data=data, headers={"X-CSRFToken": csrf_token(client), **(HX if htmx else {})})


def reply(client, w, body, htmx=True):
    return post(client, thread_url(w), {f"reply-{w.application_id}-body": body}, htmx=htmx)


def comments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Comment))


def test_a_client_comment_alerts_the_owner_and_shows_on_the_candidate_page_and_the_task(app, world, smtp):
    contact = signed_in(app, ClientContact, world.contact_id)
    assert post(contact, client_url(world, "/comments"), {"body": "Can she start in May?"}).status_code == 200

    with app.app_context():
        (alert,) = db.session.scalars(select(Alert).where(Alert.kind == "client_commented"))
        assert alert.user_id == world.recruiter_id and "\u201cCan she start in May?\u201d" in alert.message
    with app.app_context():
        assert deliver_mail() == 1
    (mail,) = smtp.inbox.wait_for(1)
    assert mail["to"] == [world.recruiter_email] and "Can she start in May?" in mail["message"]["Subject"]

    recruiter = signed_in(app, User, world.recruiter_id)
    for path in (f"/agency/candidates/{world.candidate_id}", f"/agency/tasks/{world.task_id}"):
        page = recruiter.get(path).get_data(as_text=True)
        assert f'id="client-comments-{world.application_id}"' in page, path
        assert "Can she start in May?" in page and world.contact_name in page, path
    # A second comment is a second alert: none is folded into another.
    post(contact, client_url(world, "/comments"), {"body": "And her notice period?"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Alert.kind == "client_commented")) == 2


def test_the_agency_replies_in_the_thread_and_only_the_jobs_contacts_read_it(app, world):
    recruiter = signed_in(app, User, world.recruiter_id)
    answered = reply(recruiter, world, "Yes: her notice is four weeks.")
    assert answered.status_code == 200
    html = answered.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="client-comments-{world.application_id}"'), "the thread, not a page"
    assert "Yes: her notice is four weeks." in html and "Reply posted." in html

    contact_page = signed_in(app, ClientContact, world.contact_id).get(client_url(world)).get_data(as_text=True)
    assert "Yes: her notice is four weeks." in contact_page and f"({world.agency_name})" in contact_page
    # Another company of the same agency, and another agency's contact: no thread to read.
    for model, who in ((ClientContact, world.other_contact_id), (ClientContact, world.b_contact_id)):
        response = signed_in(app, model, who).get(client_url(world))
        assert response.status_code == 404 and "four weeks" not in response.get_data(as_text=True)


def test_a_reply_is_mailed_to_each_contact_in_the_conversation_and_no_one_else(app, world, smtp):
    with app.app_context():
        company = db.session.get(ClientCompany, world.company_id)
        talker, quiet, gone = (make_contact(company, name=n) for n in ("Tara Talker", "Quinn Quiet", "Gina Gone"))
        for contact in (talker, gone):
            client_actions.add_comment(contact, _application(world), f"{contact.name} asks: when can we meet?")
        gone.active = False
        addresses = talker.email, quiet.email
        db.session.commit()
        deliver_mail()
    smtp.inbox.clear()
    recruiter = signed_in(app, User, world.recruiter_id)
    assert reply(recruiter, world, "Next Tuesday suits her.\n\nShe is free all day.").status_code == 200
    with app.app_context():
        assert deliver_mail() == 1
    (mail,) = smtp.inbox.wait_for(1)
    assert mail["to"] == [addresses[0]]
    text = mail["message"].get_body(("plain",)).get_content()
    assert "Next Tuesday suits her." in text and "She is free all day." in text
    assert f"/{world.slug}/portal/candidates/{world.application_id}" in text


def test_another_agency_can_neither_read_nor_answer_the_thread(app, world):
    with app.app_context():
        client_actions.add_comment(
            db.session.get(ClientContact, world.contact_id), _application(world), "Secret opinion of the candidate"
        )
        db.session.commit()
    outsider = signed_in(app, User, world.b_recruiter_id)
    read = outsider.get(thread_url(world))
    assert read.status_code == 404 and "Secret opinion" not in read.get_data(as_text=True)
    assert outsider.get(f"/agency/candidates/{world.candidate_id}").status_code == 404
    assert reply(outsider, world, "Injected").status_code == 404
    assert comments(app) == 1


def _application(world):
    return db.session.get(Application, world.application_id)


def test_no_reply_once_the_candidate_is_unshared_and_the_refusal_is_in_place(app, world):
    recruiter = signed_in(app, User, world.recruiter_id)
    empty = reply(recruiter, world, "   ")
    assert empty.status_code == 422 and "Write a reply first." in empty.get_data(as_text=True)
    with app.app_context():
        profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == world.application_id))
        profile.unshared_at = utcnow()
        db.session.commit()
    page = recruiter.get(f"/agency/candidates/{world.candidate_id}").get_data(as_text=True)
    assert "The candidate is not shared with the client now" in page
    refused = reply(recruiter, world, "Are you still interested?")
    assert refused.status_code == 422
    assert "not shared with the client" in refused.get_data(as_text=True)
    assert comments(app) == 0


def test_a_reply_without_htmx_lands_on_the_thread_page(app, world):
    recruiter = signed_in(app, User, world.recruiter_id)
    response = reply(recruiter, world, "Posted without script", htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(thread_url(world))
    page = recruiter.get(thread_url(world)).get_data(as_text=True)
    assert "<h1>" in page and "Posted without script" in page


def test_replies_keep_the_staff_comment_throttle(make_app, world):
    app = make_app(STAFF_COMMENT_RATE="2 per minute;100 per day")
    recruiter = signed_in(app, User, world.recruiter_id)
    assert [reply(recruiter, world, f"Note {n}").status_code for n in range(2)] == [200, 200]
    refused = reply(recruiter, world, "One more")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Nothing was saved. Try again in " in html and "One more" in html
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert comments(app) == 2


def test_the_thread_comes_a_page_at_a_time(make_app, world):
    app = make_app(COMMENTS_PAGE_SIZE=3)
    with app.app_context():
        contact = db.session.get(ClientContact, world.contact_id)
        for n in range(5):
            client_actions.add_comment(contact, _application(world), f"Thought number {n}")
        db.session.commit()
        first_shown = db.session.scalars(select(Comment.id).order_by(Comment.id)).all()[2]
    recruiter = signed_in(app, User, world.recruiter_id)
    page = recruiter.get(f"/agency/candidates/{world.candidate_id}").get_data(as_text=True)
    assert [f"Thought number {n}" in page for n in range(5)] == [False, False, True, True, True]
    assert f"before={first_shown}" in page and "Show earlier comments" in page
    earlier = recruiter.get(f"{thread_url(world)}?before={first_shown}", headers=HX).get_data(as_text=True)
    assert "<section" not in earlier and "<html" not in earlier
    assert [f"Thought number {n}" in earlier for n in range(5)] == [True, True, False, False, False]
    assert "Show earlier comments" not in earlier
