"""Response hardening: CSP without inline code, secure cookies in production, the secret key,
branded error pages, and page-or-fragment rendering that caches keep apart (``Vary``)."""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal import create_app
from portal.blueprints.auth.forms import StaffLoginForm
from portal.extensions import db
from portal.htmx import render
from portal.models import ClientContact, Job, User
from portal.services import auth as auth_service
from tests.conftest import CSRF_INPUT, login_as
from tests.factories import PASSWORD, make_agency, make_company, make_contact, make_job, make_user

TEMPLATES = Path(__file__).resolve().parent.parent / "portal" / "templates"
# Emails are read by mail clients, not under our CSP, and need inline styles to look right.
PAGE_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.html") if "email" not in p.relative_to(TEMPLATES).parts)
HTTPS = "https://localhost"


@dataclass(frozen=True)
class Site:
    """Plain values of one branded agency."""

    recruiter_id: int
    recruiter_email: str
    contact_id: int
    job_id: int


@pytest.fixture
def site(app) -> Site:
    with app.app_context():
        agency = make_agency("acme", name="Acme Talent")
        recruiter = make_user(agency)
        contact = make_contact(make_company(agency))
        job = make_job(contact.company, recruiter)
        db.session.commit()
        return Site(recruiter.id, recruiter.email, contact.id, job.id)


def signed_in(app, site: Site, who: str | None):
    """A test client for an anonymous visitor, the recruiter or the contact."""
    client = app.test_client()
    if who is not None:
        model, principal_id = {"recruiter": (User, site.recruiter_id), "contact": (ClientContact, site.contact_id)}[who]
        with app.app_context():
            login_as(client, db.session.get(model, principal_id))
    return client


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        policy[name] = sources
    return policy


# Content Security Policy and headers


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (None, "/login", 200),
        (None, "/acme/login", 200),
        (None, "/no/such/page", 404),
        (None, "/acme/link/not-a-token", 404),
        (None, "/static/css/portal.css", 200),
        ("recruiter", "/agency/", 200),
        ("contact", "/acme/portal/", 200),
    ],
)
def test_every_response_carries_a_strict_policy(app, site, who, path, status):
    with signed_in(app, site, who).get(path) as response:  # closes the static file it may stream
        assert response.status_code == status
    policy = csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    header = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header and "*" not in header
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_template_scan_covers_the_page_templates():
    names = {p.relative_to(TEMPLATES).as_posix() for p in PAGE_TEMPLATES}
    assert {"base.html", "auth/client_login.html", "errors/error.html"} <= names
    assert not any(name.startswith("email/") for name in names)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_templates_hold_no_inline_script_or_style(template):
    """The CSP would block these in the browser; they must not be written in the first place."""
    source = template.read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script\s*>", source, re.S | re.I)
    assert [body for _, body in scripts if body.strip()] == [], "inline <script> content"
    assert [attrs for attrs, _ in scripts if not re.search(r"\bsrc\s*=", attrs)] == [], "<script> without src"
    assert re.findall(r"<style\b", source, re.I) == [], "<style> element"
    assert re.findall(r"\sstyle\s*=", source, re.I) == [], "style= attribute"
    assert re.findall(r"\son[a-z]+\s*=", source, re.I) == [], "on*= event handler attribute"
    assert re.findall(r"\shx-on\b", source, re.I) == [], "hx-on needs eval, which the CSP forbids"
    assert re.findall(r"javascript:", source, re.I) == [], "javascript: URL"


def test_htmx_is_configured_without_eval(client, site):
    html = client.get("/login").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html).group(1)
    assert '"allowEval": false' in config and '"allowScriptTags": false' in config
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/vendor/htmx-2.0.11.min.js" in {source.split("?")[0] for source in sources}
    assert all(source.startswith("/static/") for source in sources), "scripts are served from this site"


# Production settings


@pytest.mark.parametrize("who", ["staff", "contact"])
def test_production_session_cookie_is_secure(app, make_app, site, who):
    production = make_app(ENV_NAME="production", SECRET_KEY="x", RATELIMIT_SINGLE_PROCESS=True)
    assert not production.testing and production.config["SESSION_COOKIE_SECURE"]
    client = production.test_client()
    if who == "staff":
        path, data, home = "/login", {"email": site.recruiter_email, "password": PASSWORD}, "/agency/"
    else:
        with production.app_context():
            link = auth_service.issue_link(
                db.session.get(ClientContact, site.contact_id), "landing", db.session.get(Job, site.job_id)
            )
            db.session.commit()
        path, data, home = urlsplit(link).path, {}, f"/acme/portal/jobs/{site.job_id}"
    page = client.get(path, base_url=HTTPS)
    assert page.status_code == 200
    token = next(group for group in CSRF_INPUT.search(page.get_data(as_text=True)).groups() if group)

    # Over HTTPS Flask-WTF also checks the Referer is this site.
    response = client.post(
        path, base_url=HTTPS, data={"csrf_token": token, **data}, headers={"Referer": f"{HTTPS}{path}"}
    )

    assert response.status_code == 303
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("portal_session=")]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= attributes
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert client.get(home, base_url=HTTPS).status_code == 200


@pytest.mark.parametrize(
    "config", [{"ENV_NAME": "production"}, {"ENV_NAME": "production", "SECRET_KEY": ""}], ids=["unset", "empty"]
)
def test_production_refuses_to_start_without_a_secret_key(monkeypatch, config):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


def test_production_is_the_default_environment(monkeypatch):
    """Without PORTAL_ENV the safe production settings apply, so a bare deploy cannot run keyless."""
    for name in ("PORTAL_ENV", "SECRET_KEY", "PORTAL_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_takes_the_secret_key_from_the_environment(monkeypatch, make_app):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    production = make_app(ENV_NAME="production", RATELIMIT_SINGLE_PROCESS=True)
    assert production.config["SECRET_KEY"] == "from-the-environment"
    assert production.config["SESSION_COOKIE_HTTPONLY"] and production.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# Error pages


def test_unknown_url_gets_the_portal_404_page(client, site):
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<title>Not found · Agency Portal</title>" in html
    assert "This page does not exist, or you do not have access to it." in html
    assert 'class="site-header"' in html and "/static/css/portal.css" in html


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/acme/link/not-a-token"),
        ("contact", "/acme/portal/jobs/999999"),
        ("contact", "/acme/portal/no-such-page"),
    ],
)
def test_not_found_under_an_agency_wears_its_branding(app, site, who, path):
    response = signed_in(app, site, who).get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<title>Not found · Acme Talent</title>" in html
    assert '<span class="brand-name">Acme Talent</span>' in html
    assert 'href="/brand/acme.css?v=1"' in html


def test_unknown_agency_slug_reveals_no_branding(client, site):
    response = client.get("/no-such-agency/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<title>Not found · Agency Portal</title>" in html
    assert "/brand/" not in html


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
    ],
)
def test_error_pages_vary_on_hx_request(client, site, headers, fragment):
    """A 404 may be cached like any page, so the page and its fragment must not be confused."""
    response = client.get("/acme/link/not-a-token", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert ("<html" in html) is not fragment
    assert "HX-Request" in response.vary


# render(): one URL, page or fragment


@pytest.mark.parametrize(
    ("headers", "template_id"),
    [
        ({}, "page"),
        ({"HX-Request": "true"}, "fragment"),
        ({"HX-Request": "true", "HX-Boosted": "true"}, "page"),
        ({"HX-Request": "false"}, "page"),
    ],
    ids=["plain", "htmx", "boosted", "not-htmx"],
)
def test_render_returns_the_partial_only_for_htmx(app, headers, template_id):
    with app.test_request_context("/login", headers=headers):
        response = render("auth/staff_login.html", "auth/_staff_login_form.html", status=422, form=StaffLoginForm())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert response.headers["Vary"] == "HX-Request"
    if template_id == "page":
        assert html.startswith("<!doctype html>") and "<h1>Staff sign in</h1>" in html
    else:
        assert html.startswith('<form id="staff-login-form"') and "<h1>" not in html


def test_render_without_a_partial_always_returns_the_page(app):
    with app.test_request_context("/login", headers={"HX-Request": "true"}):
        response = render("auth/staff_login.html", form=StaffLoginForm())
    assert response.get_data(as_text=True).startswith("<!doctype html>")
    assert response.headers["Vary"] == "HX-Request"


@pytest.mark.parametrize("path", ["/login", "/acme/login"])
def test_one_url_serves_page_and_fragment(client, site, path):
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    assert fragment.get_data(as_text=True).lstrip().startswith("<form ")
    assert "HX-Request" in page.vary and "HX-Request" in fragment.vary
    # The page includes the partial: the form markup has one source.
    form = re.search(r"<form .*?</form>", fragment.get_data(as_text=True), re.S).group(0)
    assert re.sub(r'value="[^"]+"', "", form) in re.sub(r'value="[^"]+"', "", page.get_data(as_text=True))


# Cache-Control: nothing a signed-in principal is shown is kept by a browser or a proxy

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_authenticated_responses_are_never_stored(app, client, site):
    with app.app_context():
        login_as(client, db.session.get_one(User, site.recruiter_id))
    for path, headers in [("/agency/", {}), ("/agency/alerts/badge", {"HX-Request": "true"})]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_client_pages_and_resume_downloads_are_never_stored(app, client):
    from portal.models import Resume
    from tests.factories import make_tenant

    with app.app_context():
        tenant = make_tenant("cacheco")
        resume = Resume(
            agency_id=tenant.agency.id, candidate_id=tenant.application.candidate_id, filename="cv.pdf", content=PDF
        )
        db.session.add(resume)
        db.session.flush()
        tenant.application.shared_profile.resume_id = resume.id
        db.session.commit()
        login_as(client, tenant.contact)
        base = f"/cacheco/portal/candidates/{tenant.application.id}"
    for path in ("/cacheco/portal/", base, f"{base}/resume?download=1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "Expires" not in response.headers


def test_public_assets_keep_their_caching_for_a_signed_in_browser(app, client, site):
    with app.app_context():
        login_as(client, db.session.get_one(User, site.recruiter_id))
    stylesheet = client.get("/brand/acme.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    static = next((Path(app.static_folder or "") / "css").glob("*.css")).name
    with client.get(f"/static/css/{static}") as asset:
        assert asset.status_code == 200 and "no-store" not in asset.headers.get("Cache-Control", "")
