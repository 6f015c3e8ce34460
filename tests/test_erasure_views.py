"""The erasure and suppression pages (issue 16, item 2): "Erase candidate" for admins only, with a
confirmation naming what will go; "New candidate" and the import page warn about an erased
person's address and add them only with the explicit override."""

import io

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Candidate
from portal.services import erasure
from tests.conftest import csrf_token, login_as
from tests.factories import make_agency, make_application, make_company, make_job, make_user


def _world():
    agency = make_agency()
    admin, recruiter = make_user(agency, "admin"), make_user(agency)
    job = make_job(make_company(agency), recruiter)
    application = make_application(job)
    person = db.session.get_one(Candidate, application.candidate_id)
    person.first_name, person.last_name = "Wilhelmina", "Erasable"
    db.session.commit()
    return agency, admin, recruiter, person


def test_only_admins_see_and_use_erase_candidate(app, ctx):
    _, admin, recruiter, person = _world()
    page = f"/agency/candidates/{person.id}"
    as_recruiter = app.test_client()
    login_as(as_recruiter, recruiter)
    assert "Erase candidate" not in as_recruiter.get(page).get_data(as_text=True)
    assert as_recruiter.get(f"{page}/erase").status_code == 404
    token = csrf_token(as_recruiter)
    assert as_recruiter.post(f"{page}/erase", data={"csrf_token": token, "understood": "y"}).status_code == 404

    client = app.test_client()
    login_as(client, admin)
    assert 'id="erase-candidate-link"' in client.get(page).get_data(as_text=True)
    confirm = client.get(f"{page}/erase").get_data(as_text=True)
    assert "Wilhelmina Erasable" in confirm and "1 application(s)" in confirm and "1 e-mail address(es)" in confirm
    unticked = client.post(f"{page}/erase", data={"csrf_token": csrf_token(client)})
    assert unticked.status_code == 422 and "Tick the box" in unticked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(Candidate, person.id).erased_at is None
    done = client.post(f"{page}/erase", data={"csrf_token": csrf_token(client), "understood": "y"})
    assert done.status_code in (302, 303) and done.headers["Location"].endswith(page)
    shown = client.get(page).get_data(as_text=True)
    assert f"Erased candidate #{person.id}" in shown and "Wilhelmina" not in shown and "Erase candidate" not in shown
    assert client.get(f"{page}/edit").status_code == 200
    refused = client.post(f"{page}/erase", data={"csrf_token": csrf_token(client), "understood": "y"})
    assert refused.status_code == 422


def test_new_candidate_warns_about_an_erased_address_and_adds_only_with_the_override(app, ctx):
    agency, admin, recruiter, person = _world()
    address = person.primary_email
    erasure.erase_candidate(person, admin)
    db.session.commit()
    client = app.test_client()
    login_as(client, recruiter)
    form = {"csrf_token": csrf_token(client), "first_name": "Wilhelmina", "email": address.upper()}
    assert "Add anyway" not in client.get("/agency/candidates/new").get_data(as_text=True)
    warned = client.post("/agency/candidates/new", data=form)
    html = warned.get_data(as_text=True)
    assert warned.status_code == 422 and "asked to be erased before" in html and 'id="add-anyway"' in html
    assert db.session.scalar(select(func.count(Candidate.id))) == 1
    added = client.post("/agency/candidates/new", data={**form, "add_anyway": "y"})
    assert added.status_code in (302, 303)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "suppression_overridden"))
    assert entry.actor_user_id == recruiter.id and entry.agency_id == agency.id


def test_the_import_page_refuses_an_erased_address_unless_ticked(app, ctx):
    _, admin, _, person = _world()
    address = person.primary_email
    erasure.erase_candidate(person, admin)
    db.session.commit()
    client = app.test_client()
    login_as(client, admin)
    assert 'name="add_erased"' in client.get("/search/import").get_data(as_text=True)
    content = f"first_name,emails\nWilhelmina,{address}\n".encode()

    def upload(**extra):
        data = {"csrf_token": csrf_token(client), "file": (io.BytesIO(content), "people.csv"), **extra}
        return client.post("/search/import", data=data, content_type="multipart/form-data")

    refused = upload().get_data(as_text=True)
    assert "line 2: an e-mail of this row belongs to a person who asked to be erased" in refused
    added = upload(add_erased="y").get_data(as_text=True)
    assert "1 candidate(s) created" in added
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "suppression_overridden"))


def test_editing_in_an_erased_address_needs_the_override_too(app, ctx):
    agency, admin, recruiter, person = _world()
    address = person.primary_email
    erasure.erase_candidate(person, admin)
    other = make_application(make_job(make_company(agency), recruiter))
    db.session.commit()
    client = app.test_client()
    login_as(client, recruiter)
    form = {"csrf_token": csrf_token(client), "first_name": "Otto", "email": address}
    url = f"/agency/candidates/{other.candidate_id}/edit"
    warned = client.post(url, data=form)
    assert warned.status_code == 422 and 'id="add-anyway"' in warned.get_data(as_text=True)
    assert client.post(url, data={**form, "add_anyway": "y"}).status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get_one(Candidate, other.candidate_id).primary_email == address
