"""CSRF on every state-changing request: every POST/PUT/PATCH/DELETE rule of the URL map is tried
without a token, with the form token, and with the header htmx sends (``hx-headers`` on <body>).

New routes are picked up automatically; a route whose URL arguments or blueprint this file does
not know fails loudly, so it cannot slip through untested.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ClientContact, LoginToken, MailOutbox, User
from portal.services import auth as auth_service
from portal.services import decision_reminders
from tests.conftest import csrf_token, login_as
from tests.factories import (
    make_admin_samples,
    make_agency,
    make_application,
    make_company,
    make_contact,
    make_job,
    make_user,
    make_workspace_samples,
)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that exist today; the walk must at least reach them (guards against an empty walk).
KNOWN_STATE_CHANGING = {
    "auth.staff_login",
    "auth.client_login",
    "auth.redeem",
    "auth.resend",
    "auth.logout",
    "agency.copy_link",
    "agency.send_link",
    "admin.retry",
    "survey.answer",
    "agency.send_status_update",
}
# Who sends the request, by blueprint; the CSRF check must come first whoever it is.
PRINCIPAL_BY_BLUEPRINT = {
    "auth": None,
    "system": None,
    "client": "contact",
    "agency": "recruiter",
    "admin": "admin",
    "search": "admin",
    "account": None,
    "schedule": None,
    "consent": None,
    "survey": None,
    "retention": None,
}
PRINCIPAL_BY_ENDPOINT = {
    "auth.logout": "recruiter",  # signing out means someone is signed in
    "agency.export_candidate": "admin",  # admins only: a recruiter's 404 would prove nothing
    "agency.erase_candidate": "admin",
}
FORM_EXPIRED = "This form expired or was not sent from this site."


@dataclass(frozen=True)
class World:
    """Ids of one agency's rows, and the value for every URL argument the routes use."""

    recruiter_id: int
    admin_id: int
    contact_id: int
    url_values: dict


@pytest.fixture
def world(app) -> World:
    """An agency with staff, a contact, a job, a landing link and a failed message to retry."""
    with app.app_context():
        agency = make_agency("acme", name="Acme Talent")
        admin = make_user(agency, "admin")
        recruiter = make_user(agency)
        company = make_company(agency)
        contact = make_contact(company)
        job = make_job(company, recruiter)
        application = make_application(job)
        link = auth_service.landing_link(contact, job)
        unsubscribe_token = decision_reminders.unsubscribe_url(contact).rsplit("/", 1)[1]
        failed = MailOutbox(
            agency_id=agency.id,
            kind="alert",
            sender="portal@localhost",
            recipients=[recruiter.email],
            subject="Alert",
            text_body="Alert.",
            status="failed",
            attempts=8,
            last_error="SMTPServerDisconnected",
        )
        db.session.add(failed)
        db.session.commit()
        workspace = make_workspace_samples(application, recruiter)
        admin_samples = {**make_admin_samples(application, admin), "user_id": recruiter.id}
        return World(
            recruiter_id=recruiter.id,
            admin_id=admin.id,
            contact_id=contact.id,
            url_values={
                "slug": agency.slug,
                "job_id": job.id,
                "contact_id": contact.id,
                "application_id": application.id,
                "candidate_id": application.candidate_id,
                "company_id": company.id,
                "user_id": recruiter.id,
                "message_id": failed.id,
                "token": urlsplit(link).path.rsplit("/", 1)[1],
                "unsubscribe_token": unsubscribe_token,
                **workspace,
                **admin_samples,
            },
        )


def state_changing_routes(app) -> list[tuple[str, str]]:
    """(endpoint, method) for every rule that accepts an unsafe method."""
    return sorted(
        {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods & UNSAFE_METHODS}
    )


def url_for_route(app, world: World, endpoint: str, method: str) -> str:
    (rule,) = [r for r in app.url_map.iter_rules(endpoint) if method in r.methods]
    unknown = rule.arguments - world.url_values.keys()
    assert not unknown, f"{rule.rule}: teach test_csrf.py a value for {sorted(unknown)}"
    values = {name: world.url_values[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(endpoint, values, method=method)


def client_for(app, world: World, endpoint: str):
    """A fresh test client signed in as the principal the route is meant for."""
    blueprint = endpoint.split(".", 1)[0] if "." in endpoint else None
    if endpoint in PRINCIPAL_BY_ENDPOINT:
        who = PRINCIPAL_BY_ENDPOINT[endpoint]
    else:
        assert blueprint in PRINCIPAL_BY_BLUEPRINT, f"{endpoint}: teach test_csrf.py who uses blueprint {blueprint!r}"
        who = PRINCIPAL_BY_BLUEPRINT[blueprint]
    client = app.test_client()
    if who is not None:
        model, principal_id, home = {
            "recruiter": (User, world.recruiter_id, "/agency/"),
            "admin": (User, world.admin_id, "/admin/outbox"),
            "contact": (ClientContact, world.contact_id, f"/{world.url_values['slug']}/portal/"),
        }[who]
        with app.app_context():
            login_as(client, db.session.get(model, principal_id))
        # Otherwise a "not refused" answer could be the login redirect, proving nothing.
        assert client.get(home).status_code == 200, f"{who} is not signed in"
    return client


def htmx_headers(client) -> dict:
    """The headers htmx adds to every request: ``hx-headers`` on the page's <body>."""
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r"<body[^>]*\shx-headers='([^']+)'", html)
    assert match, "<body> carries no hx-headers"
    return {**json.loads(match.group(1)), "HX-Request": "true"}


def send(app, world: World, endpoint: str, method: str, token: str):
    """Send the route's request with the CSRF token as a form field, as a header, or not at all."""
    client = client_for(app, world, endpoint)
    url = url_for_route(app, world, endpoint, method)
    data, headers = {}, {}
    if token == "form":
        data["csrf_token"] = csrf_token(client)
    elif token == "header":
        headers = htmx_headers(client)
    return client.open(url, method=method, data=data, headers=headers)


def database_state(app) -> dict:
    """What a refused request must leave untouched."""
    with app.app_context():
        return {
            "mail": [(m.id, m.status, m.attempts) for m in db.session.scalars(select(MailOutbox))],
            "tokens": [(t.id, t.used_at) for t in db.session.scalars(select(LoginToken))],
            "principals": [
                (p.id, p.active, p.session_version)
                for model in (User, ClientContact)
                for p in db.session.scalars(select(model))
            ],
        }


def test_the_walk_reaches_every_known_state_changing_route(app):
    assert {endpoint for endpoint, _ in state_changing_routes(app)} >= KNOWN_STATE_CHANGING


def test_every_state_changing_route_refuses_a_request_without_token(app, world):
    before = database_state(app)
    refused_wrongly = []
    for endpoint, method in state_changing_routes(app):
        response = send(app, world, endpoint, method, token="none")
        html = response.get_data(as_text=True)
        if not (response.status_code == 400 and "<title>Form expired" in html and FORM_EXPIRED in html):
            refused_wrongly.append(f"{method} {endpoint}: {response.status_code}")
    assert refused_wrongly == []
    assert database_state(app) == before, "a refused request changed something"


@pytest.mark.parametrize("token", ["form", "header"])
def test_every_state_changing_route_accepts_a_valid_token(app, world, token):
    refused = []
    for endpoint, method in state_changing_routes(app):
        response = send(app, world, endpoint, method, token=token)
        # decoded leniently: a route may answer with a file (the subject-access ZIP)
        if response.status_code == 400 or "Form expired" in response.get_data().decode("utf-8", "replace"):
            refused.append(f"{method} {endpoint}: {response.status_code}")
    assert refused == []


def test_htmx_request_without_token_gets_the_message_as_a_fragment(app, world):
    client = client_for(app, world, "agency.copy_link")
    url = url_for_route(app, world, "agency.copy_link", "POST")
    response = client.post(url, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html" not in html
    assert html.startswith('<div class="alert alert-error" role="alert">Form expired:')


def test_token_of_another_session_is_refused(app, world):
    attacker = app.test_client()
    stolen = csrf_token(attacker)
    victim = client_for(app, world, "agency.send_link")
    url = url_for_route(app, world, "agency.send_link", "POST")
    for response in (
        victim.post(url, data={"csrf_token": stolen}),
        victim.post(url, headers={"X-CSRFToken": stolen, "HX-Request": "true"}),
    ):
        assert response.status_code == 400
        assert "Form expired" in response.get_data(as_text=True)
    assert database_state(app)["mail"] == [(world.url_values["message_id"], "failed", 8)]


@pytest.mark.parametrize("bad_token", ["", "not-a-token", "IjEyMzQ1Ig.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"])
def test_malformed_token_is_refused(app, world, bad_token):
    client = client_for(app, world, "auth.logout")
    response = client.post("/logout", data={"csrf_token": bad_token})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get("/agency/").status_code == 200, "a refused sign-out must leave the session alone"


def test_link_continue_without_token_neither_signs_in_nor_consumes(app, world):
    with app.app_context():
        contact = db.session.get(ClientContact, world.contact_id)
        path = urlsplit(auth_service.issue_link(contact, "sign_in")).path
        db.session.commit()
    client = app.test_client()
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 400
    assert client.get("/acme/portal/").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(LoginToken.used_at).where(LoginToken.kind == "sign_in")).all() == [None]
    assert client.post(path, data={"csrf_token": csrf_token(client)}).status_code == 303
    assert client.get("/acme/portal/").status_code == 200


def test_header_from_hx_headers_matches_the_form_token_session(app, world):
    """The token in hx-headers belongs to the same session as the page: a plain htmx POST works."""
    client = client_for(app, world, "agency.copy_link")
    page = client.get(f"/agency/jobs/{world.url_values['job_id']}").get_data(as_text=True)
    headers = json.loads(re.search(r"<body[^>]*\shx-headers='([^']+)'", page).group(1))
    assert set(headers) == {"X-CSRFToken"}
    assert f'hx-post="{url_for_route(app, world, "agency.copy_link", "POST")}"' in page
    response = client.post(
        url_for_route(app, world, "agency.copy_link", "POST"), headers={**headers, "HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "/acme/link/" in response.get_data(as_text=True)
    assert (
        json.loads(response.headers["HX-Trigger"])["toast"]["message"] == "Copy this link and send it to the contact."
    )
