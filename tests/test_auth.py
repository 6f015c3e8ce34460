"""Sign-in (C1, C2, C2a): client magic links, staff passwords, sessions and rate limits.

Requests go through the Flask test client outside any app context of the test, so each request
loads its principal afresh (as in production); database set-up and checks run in their own
``app.app_context()`` blocks.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, ClientContact, Job, LoginToken, MailOutbox, User, as_utc, utcnow
from portal.scoping import agency_by_slug
from portal.services import auth as auth_service
from portal.unit_of_work import unit_of_work
from portal.worker import answer_sign_in_requests, deliver_mail
from tests.conftest import csrf_token
from tests.factories import (
    PASSWORD,
    make_agency,
    make_application,
    make_company,
    make_contact,
    make_job,
    make_user,
)

LINK_IN_TEXT = re.compile(r"http://127\.0\.0\.1:\d+(/[a-z0-9-]+/link/[A-Za-z0-9_.\-]+)")
CSRF_VALUES = re.compile(r'("X-CSRFToken": "|name="csrf_token" type="hidden" value=")[^"]+')


@dataclass(frozen=True)
class Site:
    """Plain values (no ORM rows) of two agencies built for a test."""

    slug: str
    title: str
    contact_id: int
    contact_email: str
    job_id: int
    job_title: str
    recruiter_id: int
    recruiter_email: str
    other_slug: str


@pytest.fixture
def site(app) -> Site:
    """Agency "acme" (branded) with a recruiter, a client contact and a job with a shared candidate;
    agency "globex" with a contact of its own. One password hash only: scrypt is slow on purpose."""
    with app.app_context():
        acme = make_agency("acme", name="Acme Talent", welcome_text="Welcome to the Acme Talent client portal.")
        recruiter = make_user(acme)
        company = make_company(acme)
        contact = make_contact(company)
        job = make_job(company, recruiter)
        make_application(job)
        globex = make_agency("globex", name="Globex Staffing")
        make_contact(make_company(globex))
        db.session.commit()
        return Site(
            slug="acme",
            title="Acme Talent",
            contact_id=contact.id,
            contact_email=contact.email,
            job_id=job.id,
            job_title=job.title,
            recruiter_id=recruiter.id,
            recruiter_email=recruiter.email,
            other_slug="globex",
        )


def rows(app, model, *where) -> list[SimpleNamespace]:
    """Every row of ``model`` (optionally filtered) as plain values, oldest first."""
    with app.app_context():
        found = db.session.scalars(select(model).where(*where).order_by(model.created_at, model.id)).all()
        return [SimpleNamespace(**{c.key: getattr(r, c.key) for c in model.__table__.columns}) for r in found]


def issue(app, contact_id: int, kind: str, job_id: int | None = None) -> str:
    """Issue a link through the service (as the mail would carry it) and return its path."""
    with app.app_context():
        contact = db.session.get(ClientContact, contact_id)
        job = db.session.get(Job, job_id) if job_id else None
        url = auth_service.issue_link(contact, kind, job)
        db.session.commit()
    return urlsplit(url).path


def token_row(app, path: str) -> SimpleNamespace:
    """The LoginToken row behind a link path."""
    slug, _, signed = path.strip("/").split("/")
    with app.app_context():
        check = auth_service.check_link(agency_by_slug(slug), signed)
        assert check is not None, f"{path} is not a link of {slug}"
        token_id = check.token.id
    (row,) = rows(app, LoginToken, LoginToken.id == token_id)
    return row


def deliver(app) -> int:
    """Run the worker's mail step once, as the worker process would."""
    with app.app_context():
        return deliver_mail()


def answer_requests(app) -> int:
    """Run the worker's sign-in step once: it decides which queued requests get a link."""
    with app.app_context():
        return answer_sign_in_requests()


def deactivate(app, model, principal_id: int) -> None:
    """Deactivate a user or contact through the service."""
    with app.app_context():
        auth_service.deactivate(db.session.get(model, principal_id))
        db.session.commit()


def post_with_token(client, path: str, **data):
    """POST a form the way the page would, CSRF token included."""
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def ask_for_link(client, slug: str, email: str, ip: str = "127.0.0.1", **headers):
    """Submit the client sign-in form from ``ip``."""
    return client.post(
        f"/{slug}/login",
        data={"csrf_token": csrf_token(client), "email": email},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def without_csrf(html: str) -> str:
    """The page with its per-request CSRF tokens blanked, so two answers can be compared."""
    return CSRF_VALUES.sub(r"\1", html)


def field_error(html: str, field_id: str) -> str | None:
    """The error shown next to a field: in its wrapper, right after the input that points at it."""
    match = re.search(
        rf'<div class="field has-error">\s*<label for="{field_id}">[^<]*</label>\s*'
        rf'<input (?=[^>]*aria-invalid="true")(?=[^>]*aria-describedby="{field_id}-error")'
        rf'[^>]*\bid="{field_id}"[^>]*>\s*'
        rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>\s*</div>',
        html,
    )
    return match.group(1) if match else None


def signed_in_home(client, site: Site):
    """GET the client home: 200 when signed in as a contact of ``site``, else a redirect."""
    return client.get(f"/{site.slug}/portal/")


# C1: asking for a sign-in link


def test_sign_in_page_wears_the_agency_branding(client, site):
    response = client.get("/acme/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Sign in · Acme Talent</title>" in html
    assert "Sign in to Acme Talent" in html
    assert "Welcome to the Acme Talent client portal." in html
    assert 'href="/brand/acme.css?v=1"' in html


def test_unknown_agency_has_no_sign_in_page(client, site):
    assert client.get("/no-such-agency/login").status_code == 404


def test_known_email_is_sent_a_sign_in_link_over_smtp(app, client, site, smtp):
    response = ask_for_link(client, site.slug, site.contact_email.upper())

    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert rows(app, LoginToken) == [], "the request only queues: the worker decides"
    assert answer_requests(app) == 1
    (token,) = rows(app, LoginToken)
    assert (token.contact_id, token.kind, token.job_id, token.used_at) == (site.contact_id, "sign_in", None, None)
    lifetime = as_utc(token.expires_at) - as_utc(token.created_at)
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    (queued,) = rows(app, MailOutbox)
    assert queued.recipients == [site.contact_email]
    assert queued.status == "pending"
    link = LINK_IN_TEXT.search(queued.text_body).group(1)
    assert token_row(app, link).id == token.id
    assert smtp.inbox.messages == [], "mail must wait for the worker, never go out inside the request"

    assert deliver(app) == 1

    (received,) = smtp.inbox.wait_for(1)
    message = received["message"]
    assert received["to"] == [site.contact_email]
    assert message["Subject"] == "Your sign-in link for Acme Talent"
    assert message["From"].startswith("Acme Talent <")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert LINK_IN_TEXT.search(text).group(1) == link
    assert f'href="{LINK_IN_TEXT.search(html).group(0)}"' in html
    assert rows(app, MailOutbox)[0].status == "sent"
    assert "Continue" in client.get(link).get_data(as_text=True)


def test_answer_is_the_same_whether_or_not_the_email_is_known(app, client, site, smtp):
    address = "pat.lee@client.example"
    unknown = ask_for_link(client, site.slug, address)
    answer_requests(app)
    with app.app_context():
        company = db.session.get(ClientContact, site.contact_id).company
        contact_id = make_contact(company, email=address).id
        db.session.commit()
    known = ask_for_link(client, site.slug, address)
    answer_requests(app)
    deactivate(app, ClientContact, contact_id)
    deactivated = ask_for_link(client, site.slug, address)
    answer_requests(app)

    assert unknown.status_code == known.status_code == deactivated.status_code == 200
    assert without_csrf(unknown.get_data(as_text=True)) == without_csrf(known.get_data(as_text=True))
    assert without_csrf(deactivated.get_data(as_text=True)) == without_csrf(known.get_data(as_text=True))
    assert len(rows(app, MailOutbox)) == 1, "only the request made while the contact was known and active"
    assert len(rows(app, LoginToken)) == 1
    assert deliver(app) == 1
    assert len(smtp.inbox.wait_for(1)) == 1


def test_unknown_email_gets_no_mail(app, client, site, smtp):
    response = ask_for_link(client, site.slug, "nobody@nowhere.example")
    assert response.status_code == 200
    assert answer_requests(app) == 1
    assert rows(app, MailOutbox) == [] and rows(app, LoginToken) == []
    assert deliver(app) == 0
    assert smtp.inbox.messages == []


def test_contact_of_another_agency_gets_no_mail_here(app, client, site):
    with app.app_context():
        globex_contact = db.session.scalar(
            select(ClientContact).join(Agency).where(Agency.slug == site.other_slug).limit(1)
        )
        email = globex_contact.email
    assert ask_for_link(client, site.slug, email).status_code == 200
    assert answer_requests(app) == 1
    assert rows(app, MailOutbox) == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address."),
        ("not-an-email", "Enter a valid email address."),
        ("pat@", "Enter a valid email address."),
        (
            "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + ".example.com",
            "Field cannot be longer than 254 characters.",
        ),
    ],
    ids=["empty", "no-at", "no-domain", "too-long"],
)
def test_invalid_email_is_refused_next_to_the_field(app, client, site, email, message, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = ask_for_link(client, site.slug, email, **headers)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert message in (field_error(html, "email") or "")
    assert ("<html" in html) is not htmx
    if htmx:
        assert html.lstrip().startswith('<form id="client-login-form"')
    assert "HX-Request" in response.vary
    assert rows(app, MailOutbox) == []


def test_htmx_sign_in_request_gets_a_fragment(app, client, site):
    """The form swaps itself (outerHTML): a whole page would nest a second header inside <main>."""
    response = ask_for_link(client, site.slug, site.contact_email, **{"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "site-header" not in html
    assert 'id="check-email"' in html and "Check your email" in html
    assert "HX-Request" in response.vary
    answer_requests(app)
    assert len(rows(app, MailOutbox)) == 1


# C2, C2a: opening a link


@pytest.mark.parametrize("kind", ["sign_in", "landing"])
def test_get_of_a_link_shows_continue_and_changes_nothing(app, client, site, kind):
    path = issue(app, site.contact_id, kind, site.job_id if kind == "landing" else None)

    for _ in range(2):  # a mail scanner first, then the person
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f"Continue to {site.job_title if kind == 'landing' else site.title}" in html
        assert f'<form method="post" action="{path}">' in html
        assert site.contact_email in html
        assert token_row(app, path).used_at is None
    assert signed_in_home(client, site).status_code == 302, "a GET must not sign anyone in"


@pytest.mark.parametrize(
    ("kind", "destination"),
    [
        ("sign_in", "/acme/portal/"),
        ("landing", "/acme/portal/jobs/{job_id}"),
    ],
)
def test_continue_signs_in_and_lands(app, client, site, kind, destination):
    path = issue(app, site.contact_id, kind, site.job_id if kind == "landing" else None)
    response = post_with_token(client, path)

    assert response.status_code == 303
    assert response.headers["Location"] == destination.format(job_id=site.job_id)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Sign out" in page.get_data(as_text=True)


def test_sign_in_link_works_once(app, client, site):
    path = issue(app, site.contact_id, "sign_in")
    assert post_with_token(client, path).status_code == 303
    assert token_row(app, path).used_at is not None

    other_device = app.test_client()
    again = post_with_token(other_device, path)
    html = again.get_data(as_text=True)
    assert again.status_code == 410
    assert "This link was already used" in html
    assert "Email me a fresh link" in html
    assert signed_in_home(other_device, site).status_code == 302
    assert client.get(path).status_code == 410


def test_redeeming_a_sign_in_link_twice_claims_it_once(app, site):
    path = issue(app, site.contact_id, "sign_in")
    signed = path.rsplit("/", 1)[1]
    with app.app_context():
        agency = agency_by_slug(site.slug)
        with unit_of_work():
            first = auth_service.redeem_link(agency, signed)
        with unit_of_work():
            second = auth_service.redeem_link(agency, signed)
    assert (first.state, second.state) == ("ok", "used")


def test_landing_link_is_reusable_within_validity(app, site):
    path = issue(app, site.contact_id, "landing", site.job_id)
    for _ in range(3):
        device = app.test_client()
        response = post_with_token(device, path)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/acme/portal/jobs/{site.job_id}"
    assert token_row(app, path).used_at is None


def test_signed_in_contact_opening_their_landing_link_goes_straight_to_the_job(app, client, site):
    path = issue(app, site.contact_id, "landing", site.job_id)
    post_with_token(client, path)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/acme/portal/jobs/{site.job_id}"


@pytest.mark.parametrize(
    ("kind", "subject", "destination"),
    [
        ("sign_in", "Your sign-in link for Acme Talent", "/acme/portal/"),
        ("landing", "{job_title}: your link to the candidates", "/acme/portal/jobs/{job_id}"),
    ],
)
def test_expired_link_offers_a_fresh_one(app, client, site, smtp, kind, subject, destination):
    path = issue(app, site.contact_id, kind, site.job_id if kind == "landing" else None)
    with app.app_context():
        db.session.get(LoginToken, token_row(app, path).id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    expired = client.get(path)
    html = expired.get_data(as_text=True)
    assert expired.status_code == 410
    assert "This link has expired" in html
    assert "<title>Link no longer valid · Acme Talent</title>" in html
    assert "Email me a fresh link" in html
    assert post_with_token(app.test_client(), path).status_code == 410

    resent = post_with_token(client, path + "/resend")
    assert resent.status_code == 200
    assert "Check your email" in resent.get_data(as_text=True)
    assert deliver(app) == 1
    (received,) = smtp.inbox.wait_for(1)
    assert received["to"] == [site.contact_email]
    assert received["message"]["Subject"] == subject.format(job_title=site.job_title)
    fresh = LINK_IN_TEXT.search(received["message"].get_body(preferencelist=("plain",)).get_content()).group(1)
    assert fresh != path

    assert client.get(fresh).status_code == 200
    signed_in = post_with_token(client, fresh)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == destination.format(job_id=site.job_id)


def _signed(secret: str, payload) -> str:
    return URLSafeSerializer(secret, salt=auth_service.SALT).dumps(payload)


@pytest.mark.parametrize(
    "make_token",
    [
        lambda secret, signed, token_id: "garbage",
        lambda secret, signed, token_id: signed[:-3] + ("aaa" if not signed.endswith("aaa") else "bbb"),
        lambda secret, signed, token_id: _signed("another-secret", {"t": token_id, "v": 1}),
        lambda secret, signed, token_id: _signed(secret, {"t": "no-such-token", "v": 1}),
        lambda secret, signed, token_id: _signed(secret, ["not", "a", "dict"]),
    ],
    ids=["garbage", "tampered", "foreign-secret", "unknown-id", "wrong-shape"],
)
def test_forged_link_is_not_found(app, client, site, make_token):
    real = issue(app, site.contact_id, "sign_in")
    forged = f"/acme/link/{make_token(app.config['SECRET_KEY'], real.rsplit('/', 1)[1], token_row(app, real).id)}"
    assert client.get(forged).status_code == 404
    assert post_with_token(client, forged).status_code == 404
    assert post_with_token(client, forged + "/resend").status_code == 404
    assert rows(app, MailOutbox) == []


def test_link_of_one_agency_is_not_found_under_another(app, client, site):
    path = issue(app, site.contact_id, "landing", site.job_id)
    foreign = path.replace("/acme/", f"/{site.other_slug}/", 1)
    response = client.get(foreign)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert post_with_token(client, foreign).status_code == 404
    assert post_with_token(client, foreign + "/resend").status_code == 404
    assert signed_in_home(client, site).status_code == 302


def test_deactivating_a_contact_revokes_links_and_ends_the_session(app, client, site, smtp):
    landing = issue(app, site.contact_id, "landing", site.job_id)
    unused = issue(app, site.contact_id, "sign_in")
    assert post_with_token(client, landing).status_code == 303
    assert client.get(f"/acme/portal/jobs/{site.job_id}").status_code == 200

    deactivate(app, ClientContact, site.contact_id)

    after = client.get(f"/acme/portal/jobs/{site.job_id}")
    assert after.status_code == 302
    # Back to the sign-in page, which keeps the page asked for (for after sign-in).
    assert after.headers["Location"] == f"/acme/login?next=/acme/portal/jobs/{site.job_id}"
    for path in (landing, unused):
        response = app.test_client().get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 410
        assert "This link is no longer valid" in html
        assert "Email me a fresh link" not in html
        device = app.test_client()
        assert post_with_token(device, path).status_code == 410
        assert signed_in_home(device, site).status_code == 302
        assert post_with_token(device, path + "/resend").status_code == 200
    assert rows(app, MailOutbox) == []
    assert deliver(app) == 0


# C1: rate limits


def test_sign_in_requests_are_limited_per_email(app, client, site):
    for n in range(5):
        assert ask_for_link(client, site.slug, site.contact_email, ip=f"10.0.0.{n + 1}").status_code == 200

    refused = ask_for_link(client, site.slug, site.contact_email.upper(), ip="10.0.0.99")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Too many attempts" in html
    assert "<title>Too many attempts · Acme Talent</title>" in html
    assert 'href="/brand/acme.css?v=1"' in html
    assert answer_requests(app) == 5
    assert len(rows(app, MailOutbox)) == 5
    assert ask_for_link(client, site.slug, "someone.else@client.example", ip="10.0.0.99").status_code == 200


def test_sign_in_requests_are_limited_per_ip(app, client, site):
    for n in range(20):
        assert ask_for_link(client, site.slug, f"person{n}@client.example", ip="10.1.1.1").status_code == 200

    refused = ask_for_link(client, site.slug, site.contact_email, ip="10.1.1.1")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    answer_requests(app)
    assert rows(app, MailOutbox) == []
    assert ask_for_link(client, site.slug, site.contact_email, ip="10.1.1.2").status_code == 200


def test_staff_password_guessing_is_limited_per_ip(app, client, site):
    """Per address it is a back-off, not a lock-out (tests/test_login_backoff.py); per IP a limit."""
    for n in range(10):
        response = client.post(
            "/login",
            data={"csrf_token": csrf_token(client), "email": f"guess{n}@acme.example", "password": f"guess {n}"},
            environ_base={"REMOTE_ADDR": "10.2.0.1"},
        )
        assert response.status_code == 422
    refused = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": site.recruiter_email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.2.0.1"},
    )
    assert refused.status_code == 429
    assert client.get("/agency/").status_code == 302


# Staff sign-in


def staff_login(client, email: str, password: str, query: str = "", **headers):
    return client.post(
        f"/login{query}", data={"csrf_token": csrf_token(client), "email": email, "password": password}, headers=headers
    )


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("", PASSWORD, "email", "Enter your email address."),
        ("not-an-email", PASSWORD, "email", "Enter a valid email address."),
        ("{recruiter}", "", "password", "Enter your password."),
        ("{recruiter}", "wrong password", "password", "That email and password do not match an active account."),
        ("nobody@acme.example", PASSWORD, "password", "That email and password do not match an active account."),
    ],
    ids=["no-email", "bad-email", "no-password", "wrong-password", "unknown-user"],
)
def test_staff_login_refusals_are_shown_next_to_the_field(client, site, email, password, field, message):
    response = staff_login(client, email.format(recruiter=site.recruiter_email), password)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert client.get("/agency/").status_code == 302


def test_staff_login_with_the_right_password_opens_the_workspace(client, site):
    response = staff_login(client, site.recruiter_email.upper(), PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/agency/"
    assert client.get("/agency/").status_code == 200


def test_htmx_staff_login_redirects_with_hx_redirect(client, site):
    response = staff_login(client, site.recruiter_email, PASSWORD, **{"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/agency/"
    assert "Location" not in response.headers


def test_deactivated_user_cannot_sign_in(app, client, site):
    deactivate(app, User, site.recruiter_id)
    response = staff_login(client, site.recruiter_email, PASSWORD)
    assert response.status_code == 422
    assert (
        field_error(response.get_data(as_text=True), "password")
        == "That email and password do not match an active account."
    )
    assert client.get("/agency/").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/agency/", "/agency/"),
        ("/agency/jobs/{job_id}", "/agency/jobs/{job_id}"),
        ("//evil.example", "/agency/"),
        ("https://evil.example", "/agency/"),
        ("https://evil.example/agency/", "/agency/"),
        ("///evil.example", "/agency/"),
        ("/\\evil.example", "/agency/"),
        ("/\t/evil.example", "/agency/"),
        ("javascript:alert(1)", "/agency/"),
        ("agency/", "/agency/"),
    ],
    ids=[
        "workspace",
        "job",
        "scheme-relative",
        "absolute",
        "absolute-path",
        "triple-slash",
        "backslash",
        "tab",
        "javascript",
        "relative",
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_staff_login_follows_only_same_site_next(client, site, next_url, location, htmx):
    """htmx follows HX-Redirect with ``location.href``, where a browser reads ``/\\`` as ``//``."""
    headers = {"HX-Request": "true"} if htmx else {}
    response = staff_login(
        client,
        site.recruiter_email,
        PASSWORD,
        "?" + urlencode({"next": next_url.format(job_id=site.job_id)}),
        **headers,
    )
    assert response.status_code == (204 if htmx else 303)
    assert response.headers["HX-Redirect" if htmx else "Location"] == location.format(job_id=site.job_id)


def test_logout_ends_a_staff_session(client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    response = post_with_token(client, "/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert client.get("/agency/").status_code == 302


def test_logout_sends_a_contact_back_to_their_agency(app, client, site):
    post_with_token(client, issue(app, site.contact_id, "sign_in"))
    response = post_with_token(client, "/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/acme/login"
    assert signed_in_home(client, site).status_code == 302


def test_deactivating_a_signed_in_user_ends_their_session(app, client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    assert client.get("/agency/").status_code == 200

    deactivate(app, User, site.recruiter_id)

    response = client.get("/agency/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_new_session_version_ends_a_session_even_for_an_active_user(app, client, site):
    """The session id embeds session_version: bumping it ("sign out everywhere") ends old sessions."""
    staff_login(client, site.recruiter_email, PASSWORD)
    with app.app_context():
        db.session.get(User, site.recruiter_id).session_version += 1
        db.session.commit()
    assert client.get("/agency/").status_code == 302


@pytest.mark.parametrize(
    ("path", "target", "plain_target"),
    [
        ("/agency/", "/login?next=/agency/", "/login?next=/agency/"),
        ("/acme/portal/", "/acme/login", "/acme/login"),
        # A page view keeps the page asked for; an htmx request names none without HX-Current-URL.
        ("/acme/portal/jobs/1", "/acme/login", "/acme/login?next=/acme/portal/jobs/1"),
    ],
)
def test_htmx_request_to_a_login_required_page_gets_hx_redirect(client, site, path, target, plain_target):
    response = client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == target
    assert "Location" not in response.headers
    assert response.get_data() == b""

    plain = client.get(path)
    assert plain.status_code == 302
    assert plain.headers["Location"] == plain_target


def test_contact_is_not_let_into_the_workspace_nor_another_agency(app, client, site):
    post_with_token(client, issue(app, site.contact_id, "sign_in"))
    assert client.get("/agency/").status_code == 404
    assert client.get(f"/{site.other_slug}/portal/").status_code == 404
