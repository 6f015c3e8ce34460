"""The isolation matrix (SPEC "Tenancy" and "Quality bars", STYLE rules 3 and 8).

Every rule of ``app.url_map`` is requested by every principal, so a route added later is in the
matrix the day it exists. Two things make the matrix fail loudly rather than skip a new route:

* a URL parameter with no entry in ``sample_values`` (add one: an object of tenant A, company 1);
* an endpoint whose audience ``allowed_roles()`` does not know (add its blueprint there).

Every sample object belongs to tenant A and, where a company matters, to A's first client
company, so the expected outcome follows from the route's audience and the principal alone.
"""

import io
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.routing import Rule

from portal.extensions import db
from portal.models import Application, LoginToken, MailOutbox, Resume, SharedProfile
from portal.services.auth import email_landing_link, landing_link
from portal.services.decision_reminders import unsubscribe_url
from tests.conftest import csrf_token, login_as
from tests.factories import make_admin_samples, make_tenant, make_workspace_samples

# Outcomes a (rule, principal) pair may be expected to have.
PUBLIC = "reachable (public)"
ALLOWED = "allowed"
OWN_AGENCY = "allowed, own agency's data only"
NOT_FOUND = "404"
LOGIN = "redirect to login (or 401/404)"

PUBLIC_ENDPOINTS = {"static", "brand.stylesheet", "brand.logo", "system.healthz"}
# schedule, consent, survey, retention: the signed link is the credential
PUBLIC_BLUEPRINTS = {"auth", "account", "schedule", "consent", "survey", "retention"}
# The signed-in staff member's own account page (password, second factor): staff of any agency, never contacts.
STAFF_ACCOUNT_ENDPOINTS = {
    "account.settings",
    "account.change_password",
    "account.save_preferences",
    "account.start_second_factor",
    "account.confirm_second_factor",
    "account.disable_second_factor",
}
# Parameters that name no tenant data; every other URL parameter points at an object of tenant A.
TENANT_NEUTRAL_PARAMS = {"filename", "key"}  # key: a built-in email template name
UNCHECKED_METHODS = {"HEAD", "OPTIONS"}

# Distinctive texts for tenant A's data: a denied response must never contain them.
A_JOB_TITLE = "Alpha Falconry Lead"
A_OTHER_JOB_TITLE = "Alpha Orchard Manager"
A_CONFIDENTIAL_TITLE = "Alpha Stealth Director"
A_SHARED_CANDIDATE = ("Zenobia", "Quarrington")
A_UNSHARED_CANDIDATE = ("Ulrich", "Unsharedson")
A_OTHER_COMPANY_CANDIDATE = ("Odalys", "Otherborne")


class UnknownAudience(LookupError):
    """An endpoint the matrix has no expectation for."""


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a label for messages, their tenant, their role and session id."""

    label: str
    tenant: str | None  # "A", "B", or None when anonymous
    role: str  # anonymous, admin, recruiter, outsider, contact, other_contact
    session_id: str | None = None

    def get_id(self) -> str | None:
        """What ``login_as`` puts in the session (the same id Flask-Login would)."""
        return self.session_id


@dataclass
class World:
    """Two tenants, A and B, reduced to plain values (no ORM rows outlive the set-up)."""

    slug_a: str
    slug_b: str
    principals: dict[str, Principal]
    sample_values: dict[str, object]
    secrets: dict[str, str]
    job_id: int
    other_job_id: int
    confidential_job_id: int
    application_id: int
    token: str


def _name(pair: tuple[str, str]) -> str:
    return " ".join(pair)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "#1d4ed8").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(app) -> World:
    """Tenants A ("alpha") and B ("bravo") built by ``make_tenant``, with A's texts made unique."""
    with app.app_context():
        a, b = make_tenant("alpha"), make_tenant("bravo")
        a.agency.name, b.agency.name = "Alpha Recruiting", "Bravo Talent"
        # brand_logo is public, but only exists for an agency with a logo.
        a.agency.logo_png, a.agency.logo_content_type = _png(), "image/png"
        # client.company_logo serves the contact's own company's co-branding logo.
        a.company.logo_png = a.other_company.logo_png = _png()
        # client.resume serves the shared application's resume: give it one.
        resume = Resume(
            agency_id=a.agency.id,
            candidate_id=a.application.candidate_id,
            filename="cv.pdf",
            content=b"%PDF-1.4\n%%EOF\n",
        )
        db.session.add(resume)
        db.session.flush()
        a.application.shared_profile.resume_id = resume.id
        a.job.title, a.other_job.title, a.confidential_job.title = (
            A_JOB_TITLE,
            A_OTHER_JOB_TITLE,
            A_CONFIDENTIAL_TITLE,
        )
        a.application.candidate.first_name, a.application.candidate.last_name = A_SHARED_CANDIDATE
        a.unshared_application.candidate.first_name, a.unshared_application.candidate.last_name = A_UNSHARED_CANDIDATE
        other_company_application = db.session.scalar(select(Application).where(Application.job_id == a.other_job.id))
        other_company_application.candidate.first_name, other_company_application.candidate.last_name = (
            A_OTHER_COMPANY_CANDIDATE
        )
        db.session.commit()
        # A real landing link emailed the real way: it leaves a MailOutbox row of agency A.
        email_landing_link(a.contact, a.job, a.recruiter)
        message_id = db.session.scalar(select(MailOutbox.id).where(MailOutbox.agency_id == a.agency.id))
        token = landing_link(a.contact, a.job).rsplit("/", 1)[-1]
        db.session.commit()
        workspace = make_workspace_samples(a.application, a.recruiter)
        admin_samples = make_admin_samples(a.application, a.admin)

        principals = {
            "anonymous": Principal("anonymous", None, "anonymous"),
            "A admin": Principal("A admin", "A", "admin", a.admin.get_id()),
            "A recruiter": Principal("A recruiter", "A", "recruiter", a.recruiter.get_id()),
            "A outsider recruiter": Principal("A outsider recruiter", "A", "outsider", a.outsider.get_id()),
            "A contact (company 1)": Principal("A contact (company 1)", "A", "contact", a.contact.get_id()),
            "A other_contact (company 2)": Principal(
                "A other_contact (company 2)", "A", "other_contact", a.other_contact.get_id()
            ),
            "B admin": Principal("B admin", "B", "admin", b.admin.get_id()),
            "B recruiter": Principal("B recruiter", "B", "recruiter", b.recruiter.get_id()),
            "B contact": Principal("B contact", "B", "contact", b.contact.get_id()),
        }
        # The single mapping from URL parameter name to a sample value. Every value is tenant A's
        # and, where a company matters, company 1's. A new route with a new parameter needs a line here.
        sample_values = {
            "slug": a.agency.slug,
            "job_id": a.job.id,  # company 1, not confidential
            "contact_id": a.contact.id,  # company 1
            "application_id": a.application.id,  # shared, on a.job
            "candidate_id": a.application.candidate_id,
            "resume_id": resume.id,  # the shared candidate's (agency.resume: staff who see the candidate)
            "company_id": a.company.id,
            "message_id": message_id,  # the landing-link mail of agency A
            "token": token,  # a landing link for a.contact on a.job
            "unsubscribe_token": unsubscribe_url(a.contact).rsplit("/", 1)[-1],  # a.contact's reminders
            "filename": "css/portal.css",
            # task_id, item_id, request_id, interview_id, alert_id, saved_id, schedule_token: A's job and recruiter
            **workspace,
            **admin_samples,  # user_id (A's admin), stage_id (in use), reason_id, template_id, key
        }
        secrets = {
            "A's job title": A_JOB_TITLE,
            "A's company-2 job title": A_OTHER_JOB_TITLE,
            "A's confidential job title": A_CONFIDENTIAL_TITLE,
            "A's shared candidate": _name(A_SHARED_CANDIDATE),
            "A's unshared candidate": _name(A_UNSHARED_CANDIDATE),
            "A's company-2 candidate": _name(A_OTHER_COMPANY_CANDIDATE),
        }
        return World(
            a.agency.slug,
            b.agency.slug,
            principals,
            sample_values,
            secrets,
            a.job.id,
            a.other_job.id,
            a.confidential_job.id,
            a.application.id,
            token,
        )


def tenant_scoped(rule: Rule) -> bool:
    """True when the URL names something of tenant A (its slug, a job, a message ...)."""
    return bool(set(rule.arguments) - TENANT_NEUTRAL_PARAMS)


def allowed_roles(rule: Rule) -> set[str]:
    """Who inside tenant A may use a non-public route."""
    blueprint = rule.endpoint.rpartition(".")[0]
    if rule.endpoint in STAFF_ACCOUNT_ENDPOINTS:
        return {"admin", "recruiter", "outsider"}
    if blueprint == "client":
        # Every sample object belongs to company 1, so a URL carrying one is for company 1 only.
        return {"contact"} if set(rule.arguments) - {"slug"} else {"contact", "other_contact"}
    if rule.endpoint == "agency.team_tasks":
        return {"admin"}  # the head of the agency's view (its counts include confidential jobs)
    if rule.endpoint == "agency.export_candidate":
        return {"admin"}  # subject access: everything held about a person, for the agency's admins
    if rule.endpoint in ("agency.read_alert", "search.delete_saved"):
        # An alert or a saved search is its own user's: the sample ones are the A recruiter's.
        return {"recruiter"}
    if rule.endpoint == "agency.erase_candidate":
        return {"admin"}  # erasure is the agency's admins' (issue 16)
    if rule.endpoint == "agency.edit_job":
        return {"admin", "recruiter"}  # its owner, its hiring team and admins; not every recruiter who sees it
    if rule.endpoint == "agency.scoreboard":
        # Every staff member: each sees the figures of their own jobs (admins all), never a contact.
        return {"admin", "recruiter", "outsider"}
    if blueprint == "agency":
        # The sample job is not confidential, so a recruiter off its team may see it too.
        return {"admin", "recruiter", "outsider"}
    if blueprint == "admin":
        return {"admin"}
    if blueprint == "search":
        # Search and import are for all staff (a recruiter's import reaches only what they see).
        return {"admin", "recruiter", "outsider"}
    raise UnknownAudience(
        f"{rule.rule} ({rule.endpoint}): the isolation matrix has no expectation for this endpoint; "
        "add its audience to allowed_roles() in tests/test_isolation_matrix.py"
    )


def expected_outcome(rule: Rule, who: Principal) -> str:
    """What ``who`` must get from ``rule`` filled with tenant A's sample values."""
    endpoint = rule.endpoint
    public_blueprint = endpoint.rpartition(".")[0] in PUBLIC_BLUEPRINTS and endpoint not in STAFF_ACCOUNT_ENDPOINTS
    if endpoint in PUBLIC_ENDPOINTS or public_blueprint:
        return PUBLIC
    if endpoint.startswith("system.dev_mail"):
        return NOT_FOUND  # the matrix app runs with DEV_MAIL_VIEWER=False, as production does
    roles = allowed_roles(rule)
    if who.role == "anonymous":
        return LOGIN
    if who.role not in roles:
        return NOT_FOUND
    if who.tenant == "A":
        return ALLOWED
    # Tenant B: a URL naming tenant A's data is a 404; a URL naming no tenant shows B its own.
    return NOT_FOUND if tenant_scoped(rule) else OWN_AGENCY


def forbidden_texts(outcome: str, who: Principal, world: World) -> dict[str, str]:
    """Tenant A's texts this principal must not see in this response."""
    if outcome in (NOT_FOUND, LOGIN, OWN_AGENCY):
        return world.secrets
    if outcome != ALLOWED:
        return {}
    hidden = {
        "contact": ("A's unshared candidate", "A's company-2 job title", "A's company-2 candidate"),
        "other_contact": (
            "A's job title",
            "A's confidential job title",
            "A's shared candidate",
            "A's unshared candidate",
        ),
        "outsider": ("A's confidential job title",),
    }.get(who.role, ())
    return {label: world.secrets[label] for label in hidden}


@dataclass
class Case:
    """One request of the matrix: a rule, a method and the URL built from the sample values."""

    rule: Rule
    method: str
    path: str


def plan_matrix(app: Flask, sample_values: dict, principals) -> tuple[list[Case], list[str]]:
    """Every (rule, method) to request, and the problems that keep a rule out of the matrix."""
    cases, problems = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        missing = sorted(set(rule.arguments) - set(sample_values))
        if missing:
            problems.append(
                f"{rule.rule} ({rule.endpoint}): no sample value for URL parameter(s) {', '.join(missing)}; "
                "add one to sample_values in the world fixture of tests/test_isolation_matrix.py "
                "(an object of tenant A, company 1)"
            )
            continue
        try:
            for who in principals:
                expected_outcome(rule, who)
        except UnknownAudience as exc:
            problems.append(str(exc))
            continue
        built = rule.build({name: sample_values[name] for name in rule.arguments}, append_unknown=False)
        path = "/" + built[1].lstrip("/")
        for method in sorted(rule.methods - UNCHECKED_METHODS):
            cases.append(Case(rule, method, path))
    return cases, problems


def _login_paths(world: World) -> set[str]:
    return {"/login", f"/{world.slug_a}/login", f"/{world.slug_b}/login", "/signed-out"}


def _anonymous_login_path(rule: Rule, world: World) -> str:
    """Client pages send strangers to the agency's branded sign-in; staff pages to ``/login``."""
    return f"/{world.slug_a}/login" if rule.endpoint.startswith("client.") else "/login"


def judge(outcome: str, status: int, location: str, rule: Rule, world: World) -> bool:
    """Whether a response's status (and redirect target) matches the expected outcome."""
    target = urlsplit(location).path
    redirected_to_login = 300 <= status < 400 and target in _login_paths(world)
    reachable = status < 400 or status == 422
    if outcome == PUBLIC:
        return reachable
    if outcome in (ALLOWED, OWN_AGENCY):
        # A login redirect is a status < 400 too, but it means the principal was turned away.
        return reachable and not redirected_to_login
    if outcome == NOT_FOUND:
        return status == 404
    if outcome == LOGIN:
        return status in (401, 404) or (status in (302, 303) and target == _anonymous_login_path(rule, world))
    raise AssertionError(f"unknown outcome {outcome!r}")


def request_as(app: Flask, who: Principal, method: str, path: str, n: int):
    """One request by ``who`` from a fresh test client; returns (status, Location, body text)."""
    client = app.test_client()
    # A different address (and email below) per request: the sign-in rate limits have their own
    # tests and must not answer 429 in a matrix about scoping.
    client.environ_base["REMOTE_ADDR"] = str(ipaddress.IPv4Address("10.0.0.1") + n)
    if who.session_id:
        login_as(client, who)
    options = {}
    if method != "GET":
        # A valid CSRF token, so the matrix tests scoping and not CSRF.
        options["data"] = {"csrf_token": csrf_token(client), "email": f"matrix{n}@nobody.example"}
    with client.open(path, method=method, **options) as response:
        return (
            response.status_code,
            response.headers.get("Location", ""),
            response.get_data().decode("utf-8", "replace"),
        )


def test_every_route_for_every_principal(make_app, world):
    """Walk the URL map: every rule × every principal gets exactly what its audience allows."""
    matrix_app = make_app(DEV_MAIL_VIEWER=False)
    principals = list(world.principals.values())
    cases, problems = plan_matrix(matrix_app, world.sample_values, principals)
    assert not problems, "routes the isolation matrix cannot cover yet:\n  " + "\n  ".join(problems)
    walked = {case.rule.endpoint for case in cases}
    assert {
        "static",
        "brand.logo",
        "system.healthz",
        "system.dev_mail_show",
        "auth.redeem",
        "client.index",
        "client.job",
        "agency.job",
        "agency.copy_link",
        "agency.scoreboard",
        "admin.retry",
        "admin.audit",
    } <= walked, walked

    mismatches = []
    n = 0
    for case in cases:
        for who in principals:
            n += 1
            outcome = expected_outcome(case.rule, who)
            status, location, body = request_as(matrix_app, who, case.method, case.path, n)
            leaks = [label for label, text in forbidden_texts(outcome, who, world).items() if text in body]
            if judge(outcome, status, location, case.rule, world) and not leaks:
                continue
            got = f"{status}" + (f" → {location}" if location else "")
            if leaks:
                got += f"; body shows {', '.join(leaks)}"
            mismatches.append(
                f"{case.method} {case.path} [{case.rule.endpoint}] as {who.label}: expected {outcome}, got {got}"
            )
    assert n >= len(principals) * 20, f"the matrix made only {n} requests"
    assert not mismatches, f"{len(mismatches)} isolation mismatch(es) in {n} requests:\n  " + "\n  ".join(mismatches)


def test_a_route_without_a_sample_value_or_audience_fails_the_matrix(make_app, world):
    """The matrix refuses to silently skip a new route: it names what the developer must add."""
    grown = make_app(DEV_MAIL_VIEWER=False)
    grown.add_url_rule("/agency/widgets/<int:widget_id>", endpoint="agency.widget", view_func=lambda widget_id: "")
    grown.add_url_rule("/reports/", endpoint="reports.index", view_func=lambda: "")
    cases, problems = plan_matrix(grown, world.sample_values, list(world.principals.values()))
    assert len(problems) == 2, problems
    assert "widget_id" in problems[0] and "add one to sample_values" in problems[0]
    assert "reports.index" in problems[1] and "allowed_roles()" in problems[1]
    assert "agency.widget" not in {case.rule.endpoint for case in cases}


def _client_as(app: Flask, who: Principal):
    client = app.test_client()
    login_as(client, who)
    return client


def _get(client, path: str) -> tuple[int, str]:
    with client.get(path) as response:
        return response.status_code, response.get_data(as_text=True)


def test_confidential_job_is_visible_only_to_its_team_and_admins(app, world):
    """agency.job: the outsider recruiter gets a 404; the admin and the team's recruiter see it."""
    path = f"/agency/jobs/{world.confidential_job_id}"
    status, body = _get(_client_as(app, world.principals["A outsider recruiter"]), path)
    assert status == 404
    assert A_CONFIDENTIAL_TITLE not in body
    for label in ("A admin", "A recruiter"):
        status, body = _get(_client_as(app, world.principals[label]), path)
        assert status == 200, label
        assert f"<h1>{A_CONFIDENTIAL_TITLE}</h1>" in body, label

    status, body = _get(_client_as(app, world.principals["A outsider recruiter"]), "/agency/")
    assert status == 200
    assert A_JOB_TITLE in body and A_CONFIDENTIAL_TITLE not in body
    status, body = _get(_client_as(app, world.principals["A admin"]), "/agency/")
    assert A_CONFIDENTIAL_TITLE in body


def test_contact_sees_only_own_company_jobs_and_only_shared_candidates(app, world):
    """client.job: company 2's job is a 404 for company 1's contact; unshared candidates never show."""
    client = _client_as(app, world.principals["A contact (company 1)"])
    status, body = _get(client, f"/{world.slug_a}/portal/jobs/{world.other_job_id}")
    assert status == 404
    assert A_OTHER_JOB_TITLE not in body and _name(A_OTHER_COMPANY_CANDIDATE) not in body

    status, body = _get(client, f"/{world.slug_a}/portal/jobs/{world.job_id}")
    assert status == 200
    assert f"<h1>{A_JOB_TITLE}</h1>" in body
    assert _name(A_SHARED_CANDIDATE) in body
    assert _name(A_UNSHARED_CANDIDATE) not in body

    # Unsharing removes the candidate from the portal at once (A2).
    with app.app_context():
        profile = db.session.scalar(select(SharedProfile).where(SharedProfile.application_id == world.application_id))
        profile.unshared_at = datetime.now(UTC)
        db.session.commit()
    status, body = _get(client, f"/{world.slug_a}/portal/jobs/{world.job_id}")
    assert status == 200
    assert _name(A_SHARED_CANDIDATE) not in body


@pytest.mark.parametrize("label", ["A contact (company 1)", "B contact", "B admin", "anonymous"])
def test_other_tenants_slug_with_this_tenants_job_is_404(app, world, label):
    """/<B's slug>/portal/jobs/<A's job id> is a 404 whoever asks, and shows none of A's data."""
    who = world.principals[label]
    client = app.test_client()
    if who.session_id:
        login_as(client, who)
    with client.get(f"/{world.slug_b}/portal/jobs/{world.job_id}") as response:
        status, location = response.status_code, response.headers.get("Location", "")
        body = response.get_data(as_text=True)
    if who.role == "anonymous":
        # Strangers are sent to B's sign-in first; they never reach A's job either way.
        assert (status, urlsplit(location).path) == (302, f"/{world.slug_b}/login")
    else:
        assert status == 404
    assert not [secret for secret, text in world.secrets.items() if text in body]


def test_tenant_a_link_under_tenant_b_slug_is_404(app, world):
    """A landing link works only under its own agency's slug: elsewhere it is not a link at all."""
    client = app.test_client()
    status, body = _get(client, f"/{world.slug_b}/link/{world.token}")
    assert status == 404
    assert A_JOB_TITLE not in body
    with client.post(f"/{world.slug_b}/link/{world.token}", data={"csrf_token": csrf_token(client)}) as response:
        assert response.status_code == 404
    # Nothing was redeemed: the client is still anonymous.
    status, _ = _get(client, f"/{world.slug_a}/portal/")
    assert status == 302
    with app.app_context():
        assert (
            db.session.scalar(select(db.func.count()).select_from(LoginToken).where(LoginToken.used_at.is_not(None)))
            == 0
        )
