"""The candidate experience survey (issue 15 item 3): a signed, expiring, scanner-safe link that
records one answer per application, refuses a second kindly, and is reported to the agency by
agency, recruiter and client (never to the client)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SurveyAnswer, utcnow
from portal.services import ServiceError, survey
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_application, make_company, make_contact, make_job, make_user


@pytest.fixture
def shop(ctx):
    """An agency with two recruiters and two clients, and an application on each pairing."""
    agency = make_agency("shop", name="Shop Talent")
    ann, bob = make_user(agency, name="Ann Owner"), make_user(agency, name="Bob Owner")
    acme, zeta = make_company(agency, name="Acme"), make_company(agency, name="Zeta")
    contact = make_contact(acme)
    jobs = {"ann-acme": make_job(acme, ann), "bob-acme": make_job(acme, bob), "bob-zeta": make_job(zeta, bob)}
    applications = {key: make_application(job) for key, job in jobs.items()}
    db.session.commit()
    return agency, applications, contact


def _path(agency, application, now=None) -> str:
    return f"/{agency.slug}/survey/{survey.survey_token(application, now=now)}"


def _answers() -> int:
    return db.session.scalar(select(func.count()).select_from(SurveyAnswer))


def test_the_page_asks_the_question_and_a_get_records_nothing(app, shop):
    agency, applications, _ = shop
    client = app.test_client()
    response = client.get(_path(agency, applications["ann-acme"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<legend>How were you treated?</legend>" in html
    for value in range(1, 6):
        assert f'<input type="radio" name="score" value="{value}" required> {value}</label>' in html
    assert 'name="csrf_token"' in html and "never to the employer" in html
    assert _answers() == 0


def test_the_link_records_one_answer_and_refuses_a_second_kindly(app, shop):
    agency, applications, _ = shop
    application = applications["ann-acme"]
    client = app.test_client()
    path = _path(agency, application)
    response = client.post(path, data={"csrf_token": csrf_token(client), "score": "4", "comment": " Kind and quick. "})
    assert response.status_code == 200
    assert "Thank you: your answer is recorded." in response.get_data(as_text=True)
    answer = db.session.scalar(select(SurveyAnswer))
    assert (answer.application_id, answer.score, answer.comment) == (application.id, 4, "Kind and quick.")
    again = client.post(path, data={"csrf_token": csrf_token(client), "score": "1"})
    assert again.status_code == 409
    assert survey.ALREADY_ANSWERED in again.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the page still opens, and says it is answered
    assert "you have already answered" in client.get(path).get_data(as_text=True)
    db.session.expire_all()
    assert _answers() == 1 and db.session.scalar(select(SurveyAnswer.score)) == 4


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({}, "score", "Choose a number from 1 to 5."),
        ({"score": "6"}, "score", "Choose a number from 1 to 5."),
        ({"score": "x"}, "score", "Choose a number from 1 to 5."),
        ({"score": "3", "comment": "x" * 2001}, "comment", "The comment is 2001 characters long; the limit is 2000."),
    ],
)
def test_a_bad_answer_is_refused_in_place_and_nothing_is_saved(app, shop, form, field, message):
    agency, applications, _ = shop
    client = app.test_client()
    response = client.post(_path(agency, applications["ann-acme"]), data={"csrf_token": csrf_token(client), **form})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error" role="alert">{message}<' in html
    assert _answers() == 0


def test_a_second_answer_is_refused_by_the_service_too(shop):
    agency, applications, _ = shop
    link = survey.check_survey_link(agency, survey.survey_token(applications["ann-acme"]))
    survey.record_answer(link, 5, None)
    db.session.commit()
    with pytest.raises(ServiceError, match="already answered"):
        survey.record_answer(link, 2, None)


def test_an_expired_link_shows_the_question_no_more_and_records_nothing(app, shop):
    agency, applications, _ = shop
    client = app.test_client()
    path = _path(agency, applications["ann-acme"], now=utcnow() - timedelta(days=survey.LINK_DAYS, minutes=1))
    response = client.get(path)
    assert response.status_code == 410 and "This link has expired" in response.get_data(as_text=True)
    assert client.post(path, data={"csrf_token": csrf_token(client), "score": "5"}).status_code == 410
    assert _answers() == 0
    # One minute short of the expiry it still records.
    fresh = _path(
        agency, applications["ann-acme"], now=utcnow() - timedelta(days=survey.LINK_DAYS) + timedelta(minutes=1)
    )
    assert client.post(fresh, data={"csrf_token": csrf_token(client), "score": "5"}).status_code == 200


def test_a_foreign_or_tampered_link_is_not_a_link(app, shop):
    agency, applications, _ = shop
    other = make_agency("other")
    foreign_application = make_application(make_job(make_company(other), make_user(other)))
    db.session.commit()
    client = app.test_client()
    token = survey.survey_token(applications["ann-acme"])
    cases = [
        f"/{other.slug}/survey/{token}",  # this agency's link under another agency's address
        f"/{agency.slug}/survey/{survey.survey_token(foreign_application)}",  # another agency's link here
        f"/{agency.slug}/survey/{token[:-2]}xx",  # tampered signature
        f"/{agency.slug}/survey/not-a-token",
    ]
    for path in cases:
        assert client.get(path).status_code == 404, path
        assert "This link is not valid" in client.get(path).get_data(as_text=True)
        assert client.post(path, data={"csrf_token": csrf_token(client), "score": "5"}).status_code == 404, path
    assert client.get(f"/no-such-agency/survey/{token}").status_code == 404
    assert _answers() == 0


def test_a_token_names_its_application_only(shop):
    agency, applications, _ = shop
    link = survey.check_survey_link(agency, survey.survey_token(applications["bob-zeta"]))
    assert link.application.id == applications["bob-zeta"].id


def test_scores_by_agency_recruiter_and_client(shop):
    agency, applications, _ = shop
    for key, score in (("ann-acme", 5), ("bob-acme", 2), ("bob-zeta", 4)):
        survey.record_answer(survey.check_survey_link(agency, survey.survey_token(applications[key])), score, None)
    other = make_agency("elsewhere")
    elsewhere = make_application(make_job(make_company(other), make_user(other)))
    survey.record_answer(survey.check_survey_link(other, survey.survey_token(elsewhere)), 1, None)
    db.session.commit()
    rows = lambda by: [(s.label, s.average, s.count) for s in survey.survey_scores(agency.id, by)]  # noqa: E731
    assert rows("agency") == [("Shop Talent", 3.67, 3)]
    assert rows("recruiter") == [("Ann Owner", 5.0, 1), ("Bob Owner", 3.0, 2)]
    assert rows("client") == [("Acme", 3.5, 2), ("Zeta", 4.0, 1)]
    assert survey.survey_scores(agency.id, "agency", since=utcnow() + timedelta(days=1)) == []


def test_the_client_never_sees_the_answer(app, shop):
    agency, applications, contact = shop
    application = applications["ann-acme"]
    link = survey.check_survey_link(agency, survey.survey_token(application))
    survey.record_answer(link, 1, "Rude interviewer, never called back")
    db.session.commit()
    client = app.test_client()
    login_as(client, contact)
    for path in (f"/{agency.slug}/portal/", f"/{agency.slug}/portal/jobs/{application.job_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Rude interviewer" not in response.get_data(as_text=True)


def test_an_erased_persons_link_is_no_link(shop):
    from portal.models import Candidate, User
    from portal.services import erasure

    agency, applications, _ = shop
    token = survey.survey_token(applications["ann-acme"])
    admin = User(agency_id=agency.id, email="erasing.admin@agency.example", name="Erasing Admin", role="admin")
    db.session.add(admin)
    db.session.flush()
    erasure.erase_candidate(db.session.get(Candidate, applications["ann-acme"].candidate_id), admin)
    db.session.commit()
    assert survey.check_survey_link(agency, token) is None
