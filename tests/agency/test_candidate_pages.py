"""The candidate and note pages over HTTP (issue 14, item 1): "New candidate" where recruiters
start, the form as a page and a fragment, refusals in place (422, the field named) with nothing
saved, a known e-mail offering the person who has it, and another agency's people as 404s."""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, Application, Candidate, Note
from tests.agency.conftest import Desk
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_candidate, make_company, make_job, make_user

HX = {"HX-Request": "true"}


@pytest.fixture
def signed_in(app, client, desk: Desk):
    login_as(client, desk.recruiter)
    return client


def _post(client, url, data=None, htmx=True):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, headers=HX if htmx else {})


def _person(**changes) -> dict:
    return {
        "first_name": "Lena",
        "last_name": "Berg",
        "email": "lena@example.com",
        "phone": "+49 30 1234",
        "headline": "Data engineer",
        "current_title": "Senior Data Engineer",
        "current_company": "Globex",
        "location": "Berlin",
        "timezone": "Europe/Berlin",
        "tags": "python, spark",
        "source": "Referral",
        **changes,
    }


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("path", ["/agency/", "/search"])
def test_new_candidate_is_offered_where_recruiters_start(signed_in, path):
    page = signed_in.get(path).get_data(as_text=True)
    assert re.search(r'<a class="button[^"]*" href="/agency/candidates/new">New candidate</a>', page)


def test_a_jobs_board_offers_new_candidate_for_that_job(signed_in, desk):
    page = signed_in.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    assert f'href="/agency/candidates/new?job_id={desk.job.id}">New candidate</a>' in page


def test_the_form_has_the_fixed_labels_and_grouped_real_zones(signed_in):
    page = signed_in.get("/agency/candidates/new").get_data(as_text=True)
    labels = re.findall(r"<label for=\"[a-z_]+\">([^<]+)</label>", page)
    assert labels == [
        "First name",
        "Last name",
        "Email",
        "Phone",
        "Headline",
        "Current title",
        "Current company",
        "Location",
        "Timezone",
        "Tags",
        "Source",
    ]
    assert '<button type="submit" class="button primary">Save</button>' in page
    assert '<optgroup label="Europe">' in page and '<option value="Europe/Berlin">Berlin</option>' in page
    assert 'value="Factory"' not in page and 'value="localtime"' not in page
    fragment = signed_in.get("/agency/candidates/new", headers=HX).get_data(as_text=True)
    assert fragment.startswith('<form id="candidate-form"') and "<html" not in fragment


def test_create_saves_and_goes_to_the_new_page(signed_in, desk):
    response = _post(signed_in, "/agency/candidates/new", _person(email="Lena@Example.com"))
    person = db.session.scalar(select(Candidate).where(Candidate.first_name == "Lena"))
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/agency/candidates/{person.id}"
    assert person.primary_email == "lena@example.com" and person.timezone == "Europe/Berlin"
    page = signed_in.get(f"/agency/candidates/{person.id}").get_data(as_text=True)
    assert "Lena Berg" in page and "lena@example.com" in page and "Tags: python, spark" in page
    assert "Added Lena Berg" in page  # the timeline


def test_create_from_a_job_board_puts_them_on_that_job(signed_in, desk):
    response = _post(signed_in, "/agency/candidates/new", _person(job_id=str(desk.job.id)))
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/agency/jobs/{desk.job.id}"
    person = db.session.scalar(select(Candidate).where(Candidate.first_name == "Lena"))
    assert db.session.scalar(select(Application).where(Application.candidate_id == person.id)).job_id == desk.job.id
    board = signed_in.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    assert "Lena Berg" in board


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"email": "lena@example"}, "email", "Enter a valid e-mail address."),
        ({"email": "lena at example.com"}, "email", "Enter a valid e-mail address."),
        ({"first_name": ""}, "first_name", "Enter a first name."),
        ({"headline": "x" * 301}, "headline", "At most 300 characters."),
        ({"source": "x" * 101}, "source", "At most 100 characters."),
        ({"timezone": "Factory"}, "timezone", "Choose a timezone from the list."),
        ({"timezone": "posix/Europe/Berlin"}, "timezone", "Choose a timezone from the list."),
        ({"tags": "t" * 81}, "tags", "Keep each tag to 80 characters or fewer."),
    ],
)
def test_refusals_in_place_name_the_field_and_save_nothing(signed_in, desk, changes, field, words):
    before = _count(Candidate)
    response = _post(signed_in, "/agency/candidates/new", _person(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html and words in html
    control = re.search(rf'<(input|select)[^>]*\bid="{field}"[^>]*>', html)
    assert f'id="{field}-error"' in html and control and 'aria-invalid="true"' in control.group(0)
    assert _count(Candidate) == before


def test_a_known_email_offers_the_existing_person(signed_in, desk):
    response = _post(signed_in, "/agency/candidates/new", _person(email=desk.candidate.primary_email.upper()))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        f'This e-mail belongs to Kavya Rao: <a href="/agency/candidates/{desk.candidate.id}">open their page</a>.'
        in html
    )
    assert _count(Candidate) == 1 and "Lena" not in {c.first_name for c in db.session.scalars(select(Candidate))}


def test_a_known_email_of_someone_hidden_names_nobody(signed_in, desk):
    secret_job = make_job(desk.job.company, desk.admin, title="Stealth CFO", confidential=True)
    hidden = make_candidate(desk.recruiter.agency, first_name="Hidden", last_name="Person")
    db.session.add(
        Application(
            agency_id=hidden.agency_id,
            job_id=secret_job.id,
            candidate_id=hidden.id,
            stage_id=desk.recruiter.agency.stages[0].id,
        )
    )
    db.session.commit()
    html = _post(signed_in, "/agency/candidates/new", _person(email=hidden.primary_email)).get_data(as_text=True)
    assert "on a job you cannot see" in html and "Hidden" not in html


def test_the_full_page_answers_a_plain_post_too(signed_in):
    response = _post(signed_in, "/agency/candidates/new", _person(email="nope"), htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html and "Enter a valid e-mail address." in html


def test_edit_is_prefilled_and_saves(signed_in, desk):
    page = signed_in.get(f"/agency/candidates/{desk.candidate.id}/edit").get_data(as_text=True)
    assert 'value="Kavya"' in page and f'value="{desk.candidate.primary_email}"' in page
    assert '<option value="Asia/Kolkata" selected>Kolkata</option>' in page
    response = _post(
        signed_in,
        f"/agency/candidates/{desk.candidate.id}/edit",
        _person(first_name="Kavya", last_name="Rao-Singh", email=desk.candidate.primary_email),
    )
    assert response.status_code == 204
    db.session.expire_all()
    assert db.session.get(Candidate, desk.candidate.id).last_name == "Rao-Singh"
    refused = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/edit", _person(email="bad@"))
    assert refused.status_code == 422 and 'id="email-error"' in refused.get_data(as_text=True)


def test_another_agencys_candidate_and_job_are_not_there(signed_in, desk):
    other = make_agency("other")
    theirs = make_candidate(other)
    their_job = make_job(make_company(other), make_user(other))
    db.session.commit()
    assert signed_in.get(f"/agency/candidates/{theirs.id}/edit").status_code == 404
    assert _post(signed_in, f"/agency/candidates/{theirs.id}/edit", _person()).status_code == 404
    assert _post(signed_in, f"/agency/candidates/{theirs.id}/notes", {"body": "x"}).status_code == 404
    assert _post(signed_in, f"/agency/candidates/{theirs.id}/jobs", {"job_id": desk.job.id}).status_code == 404
    assert _post(signed_in, f"/agency/jobs/{their_job.id}/notes", {"body": "x"}).status_code == 404
    assert signed_in.get(f"/agency/candidates/new?job_id={their_job.id}").status_code == 404
    refused = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/jobs", {"job_id": their_job.id}, htmx=False)
    assert refused.status_code == 422 and "Choose one of the open jobs." in refused.get_data(as_text=True)
    assert _count(Note) == 0


def test_add_to_a_job_from_the_candidate_page(signed_in, desk):
    person = make_candidate(desk.recruiter.agency, first_name="Omar", last_name="Haddad")
    other_client = make_company(desk.recruiter.agency, name="Acme")
    twin = make_job(other_client, desk.recruiter, title="Widget Engineer")
    db.session.commit()
    page = signed_in.get(f"/agency/candidates/{person.id}").get_data(as_text=True)
    assert f'<option value="{twin.id}">Widget Engineer — Acme</option>' in page
    assert f'<option value="{desk.job.id}">Widget Engineer — Hudson Widgets</option>' in page
    added = _post(signed_in, f"/agency/candidates/{person.id}/jobs", {"job_id": twin.id}, htmx=False)
    assert added.status_code == 303 and added.headers["Location"] == f"/agency/candidates/{person.id}"
    again = _post(signed_in, f"/agency/candidates/{person.id}/jobs", {"job_id": twin.id}, htmx=False)
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "Omar Haddad is already on Widget Engineer." in html
    assert 'id="job_id-error"' in html
    assert _count(Application) == 2


def test_notes_on_a_candidate_and_a_job_show_author_time_and_zone(signed_in, desk):
    added = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/notes", {"body": "Prefers remote."})
    assert added.status_code == 204 and added.headers["HX-Redirect"] == f"/agency/candidates/{desk.candidate.id}"
    page = signed_in.get(f"/agency/candidates/{desk.candidate.id}").get_data(as_text=True)
    notes = page[page.index('id="notes"') :]
    assert "Rhea Recruiter" in notes and "Prefers remote." in notes and "(Europe/London)" in notes
    assert "Note: Prefers remote." in page[page.index('id="timeline"') :]
    job_note = _post(signed_in, f"/agency/jobs/{desk.job.id}/notes", {"body": "Two rounds."})
    assert job_note.status_code == 204
    job_page = signed_in.get(f"/agency/jobs/{desk.job.id}").get_data(as_text=True)
    assert "Two rounds." in job_page[job_page.index('id="notes"') :]
    assert db.session.scalar(select(Activity).where(Activity.job_id == desk.job.id, Activity.verb == "note.added"))


def test_a_refused_note_stays_in_place(signed_in, desk):
    fragment = _post(signed_in, f"/agency/candidates/{desk.candidate.id}/notes", {"body": "   "})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 422 and html.startswith('<section id="notes"') and "Write the note first." in html
    page = _post(signed_in, f"/agency/jobs/{desk.job.id}/notes", {"body": "x" * 5001}, htmx=False)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "<html" in html and "5,000 characters or fewer" in html
    assert _count(Note) == 0


def test_client_contacts_never_reach_these_pages(app, client, desk):
    login_as(client, desk.contact)
    assert client.get("/agency/candidates/new").status_code == 404
    assert client.get(f"/agency/candidates/{desk.candidate.id}/edit").status_code == 404
