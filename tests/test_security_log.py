"""The append-only security log (issue 12): every sign-in, failure, link issued / revealed /
redeemed, logout, password and role change and deactivation is recorded with who, about whom and
from where, never with a token or password; admins of the agency (and only they) read it; a
session opened with a link a recruiter revealed ("Copy link") is attributed to that recruiter.

Requests go through the test client with real sessions; checks read the rows in their own app
context.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy.exc
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Activity, LoginToken, SecurityEvent, User, utcnow
from portal.services import login_throttle, security_log, staff
from portal.unit_of_work import unit_of_work
from portal.worker import answer_sign_in_requests
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_agency, make_application, make_company, make_contact, make_job, make_user

ADDRESS = "198.51.100.7"
SESSION_START = datetime(2040, 6, 1, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "violet harbour quantum 7"


@dataclass(frozen=True)
class Site:
    admin_id: int
    admin_email: str
    recruiter_id: int
    recruiter_email: str
    recruiter_name: str
    contact_id: int
    contact_email: str
    contact_name: str
    job_id: int
    application_id: int
    other_admin_email: str


@pytest.fixture
def site(app) -> Site:
    """Agency "acme" with an admin, a recruiter, a contact and a job with one shared candidate;
    agency "globex" with an admin of its own."""
    with app.app_context():
        acme = make_agency("acme")
        admin = make_user(acme, role="admin", name="Ada Admin")
        recruiter = make_user(acme, name="Rhea Recruiter")
        contact = make_contact(make_company(acme), name="Nia Client")
        job = make_job(contact.company, recruiter)
        application = make_application(job)
        other_admin = make_user(make_agency("globex"), role="admin")
        db.session.commit()
        return Site(
            admin.id,
            admin.email,
            recruiter.id,
            recruiter.email,
            recruiter.name,
            contact.id,
            contact.email,
            contact.name,
            job.id,
            application.id,
            other_admin.email,
        )


def browser(app, address: str = ADDRESS):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def sign_in(app, email: str, password: str = PASSWORD, address: str = ADDRESS):
    client = browser(app, address)
    response = post(client, "/login", email=email, password=password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def events(app, kind: str | None = None) -> list[SimpleNamespace]:
    with app.app_context():
        query = select(SecurityEvent).order_by(SecurityEvent.id)
        if kind:
            query = query.where(SecurityEvent.kind == kind)
        return [
            SimpleNamespace(**{c.key: getattr(row, c.key) for c in SecurityEvent.__table__.columns})
            for row in db.session.scalars(query)
        ]


def only(app, kind: str) -> SimpleNamespace:
    (event,) = events(app, kind)
    return event


def all_security_text(app) -> str:
    """Every column of every event, as one string (to look for secrets in)."""
    return " ".join(str(vars(event)) for event in events(app))


def test_staff_sign_in_failure_throttle_and_logout_are_recorded(app, site):
    refused = post(browser(app), "/login", email=site.recruiter_email, password="not the password")
    assert refused.status_code == 422
    unknown = post(browser(app), "/login", email="nobody@nowhere.example", password="hunter2hunter2")
    assert unknown.status_code == 422
    with app.app_context(), unit_of_work():  # five failures ahead of now: the next attempt must wait
        for _ in range(login_throttle.FREE_FAILURES):
            login_throttle.claim_attempt(site.recruiter_email, now=utcnow() + timedelta(hours=1))
    throttled = post(browser(app), "/login", email=site.recruiter_email, password=PASSWORD)
    assert throttled.status_code == 429

    failed = events(app, "staff_sign_in_failed")
    assert [(e.agency_id is not None, e.subject_user_id, e.detail["reason"]) for e in failed] == [
        (True, site.recruiter_id, "password"),
        (False, None, "password"),  # an unknown address belongs to no agency, and is not kept
        (True, site.recruiter_id, "throttled"),
    ]
    assert {e.address for e in failed} == {ADDRESS}
    text_kept = all_security_text(app)
    assert "nobody@nowhere.example" not in text_kept and "not the password" not in text_kept

    with app.app_context(), unit_of_work():
        login_throttle.attempt_succeeded(site.recruiter_email)
    client = sign_in(app, site.recruiter_email)
    signed_in = only(app, "staff_sign_in")
    assert (signed_in.actor_user_id, signed_in.subject_user_id, signed_in.address) == (
        site.recruiter_id,
        site.recruiter_id,
        ADDRESS,
    )
    assert client.post("/logout", headers={"X-CSRFToken": csrf_token(client)}).status_code == 303
    logout = only(app, "logout")
    assert (logout.actor_user_id, logout.address) == (site.recruiter_id, ADDRESS)
    assert PASSWORD not in all_security_text(app)


def test_the_client_address_is_the_one_proxyfix_trusts(make_app, site):
    proxied = make_app(TRUSTED_PROXIES=1)
    client = browser(proxied, "10.0.0.2")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": site.recruiter_email, "password": "wrong wrong"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 422
    assert only(proxied, "staff_sign_in_failed").address == "203.0.113.9"


def test_client_sign_in_link_issued_and_redeemed_without_any_token_in_the_log(app, site):
    client = browser(app)
    assert post(client, "/acme/login", email=site.contact_email).status_code == 200
    requested = only(app, "client_sign_in_requested")
    assert (requested.detail["email"], requested.address) == (site.contact_email, ADDRESS)
    with app.app_context():
        assert answer_sign_in_requests() == 1
    issued = only(app, "client_link_issued")
    assert (issued.subject_contact_id, issued.actor_user_id, issued.address) == (site.contact_id, None, None)
    assert issued.detail["link_kind"] == "sign_in"

    with app.app_context():
        mail = db.session.execute(text("SELECT text_body FROM mail_outbox")).scalar_one()
        (token_id,) = db.session.scalars(select(LoginToken.id)).all()
    path = urlsplit(next(word for word in mail.split() if "/link/" in word)).path
    signed = path.rsplit("/", 1)[1]
    assert post(client, path).status_code == 303
    redeemed = only(app, "client_link_redeemed")
    assert (redeemed.actor_contact_id, redeemed.subject_contact_id, redeemed.address) == (
        site.contact_id,
        site.contact_id,
        ADDRESS,
    )
    assert redeemed.detail["link"] == issued.detail["link"], "the same link, named by a hash"
    assert "on_behalf_by" not in redeemed.detail

    again = post(browser(app), path)  # single use: the second try is refused, and recorded
    assert again.status_code == 410
    assert only(app, "client_link_refused").detail["state"] == "used"
    logged = all_security_text(app)
    assert token_id not in logged and signed not in logged and signed.split(".")[0] not in logged


def test_copy_link_is_recorded_and_the_session_it_opens_is_attributed_to_the_recruiter(app, site):
    recruiter = sign_in(app, site.recruiter_email)
    response = recruiter.post(
        f"/agency/jobs/{site.job_id}/contacts/{site.contact_id}/link",
        headers={"X-CSRFToken": csrf_token(recruiter), "HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    path = urlsplit(html.split('value="', 1)[1].split('"', 1)[0]).path
    revealed = only(app, "client_link_revealed")
    assert (revealed.actor_user_id, revealed.subject_contact_id, revealed.detail["job_id"]) == (
        site.recruiter_id,
        site.contact_id,
        site.job_id,
    )
    assert only(app, "client_link_issued").actor_user_id == site.recruiter_id

    acting = browser(app, "192.0.2.44")  # the recruiter (or whoever they passed it to) opens it
    assert post(acting, path).status_code == 303
    redeemed = only(app, "client_link_redeemed")
    assert (redeemed.actor_contact_id, redeemed.detail["on_behalf_by"], redeemed.address) == (
        site.contact_id,
        site.recruiter_id,
        "192.0.2.44",
    )
    comment = post(acting, f"/acme/portal/candidates/{site.application_id}/comments", body="Looks strong.")
    assert comment.status_code == 200
    with app.app_context():
        entry = db.session.scalars(select(Activity).where(Activity.verb == "client.commented")).one()
        assert (entry.actor_contact_id, entry.actor_user_id, entry.detail["on_behalf_by"]) == (
            site.contact_id,
            site.recruiter_id,
            site.recruiter_id,
        )
        assert entry.summary.endswith(f"(by {site.recruiter_name} for {site.contact_name})")
    admin = sign_in(app, site.admin_email)
    timeline = admin.get(f"/agency/jobs/{site.job_id}").get_data(as_text=True)
    assert f"(by {site.recruiter_name} for {site.contact_name})" in timeline

    # The contact's own emailed link is another token: their sessions stay their own.
    with app.app_context():
        tokens = db.session.scalars(select(LoginToken.revealed_by_user_id)).all()
    assert tokens == [site.recruiter_id]


def test_password_set_role_change_and_deactivation_are_recorded(app, site):
    with app.app_context():
        url = staff.set_password_url(db.session.get_one(User, site.recruiter_id))
    newcomer = browser(app)
    path = urlsplit(url).path
    response = post(newcomer, path, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    password_set = only(app, "password_set")
    assert (password_set.actor_user_id, password_set.subject_user_id, password_set.address) == (
        site.recruiter_id,
        site.recruiter_id,
        ADDRESS,
    )

    admin = sign_in(app, site.admin_email)
    assert post(admin, f"/admin/users/{site.recruiter_id}/role", role="admin").status_code == 303
    role = only(app, "role_changed")
    assert (role.actor_user_id, role.subject_user_id, role.detail) == (
        site.admin_id,
        site.recruiter_id,
        {"previous": "recruiter", "role": "admin"},
    )
    assert post(admin, f"/admin/users/{site.recruiter_id}/active", active="0").status_code == 303
    gone = only(app, "user_deactivated")
    assert (gone.actor_user_id, gone.subject_user_id, gone.address) == (site.admin_id, site.recruiter_id, ADDRESS)
    assert NEW_PASSWORD not in all_security_text(app)


def test_only_the_agencys_admins_read_the_log(app, site):
    post(browser(app), "/login", email=site.recruiter_email, password="not the password")
    admin = sign_in(app, site.admin_email)
    page = admin.get("/admin/security")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="security-event"') == 2  # the failure, then the admin's own sign-in
    assert 'data-kind="staff_sign_in_failed"' in html and "Rhea Recruiter" in html and ADDRESS in html
    with app.app_context():
        zone = db.session.get_one(User, site.admin_id).timezone
    assert f"({zone})" in html, "times in the admin's zone, with its name"
    filtered = admin.get("/admin/security?kind=staff_sign_in").get_data(as_text=True)
    assert filtered.count('class="security-event"') == 1 and 'data-kind="staff_sign_in_failed"' not in filtered
    fragment = admin.get("/admin/security?kind=staff_sign_in_failed", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="security-events">') and "<html" not in html
    assert html.count('data-kind="staff_sign_in_failed"') == 1

    other = sign_in(app, site.other_admin_email)
    theirs = other.get("/admin/security").get_data(as_text=True)
    assert theirs.count('class="security-event"') == 1  # their own sign-in only
    assert ADDRESS in theirs and "Rhea Recruiter" not in theirs and 'data-kind="staff_sign_in_failed"' not in theirs

    recruiter = sign_in(app, site.recruiter_email)
    assert recruiter.get("/admin/security").status_code == 404


def test_the_log_is_paginated_newest_first(app, site):
    with app.app_context(), unit_of_work():
        admin = db.session.get_one(User, site.admin_id)
        agency_id = admin.agency_id
        start = utcnow() - timedelta(days=1)
        for n in range(60):
            security_log.record_security_event(
                "staff_sign_in", agency_id=admin.agency_id, actor=admin, now=start + timedelta(minutes=n)
            )
    client = sign_in(app, site.admin_email)  # the 61st event, the newest
    first = client.get("/admin/security").get_data(as_text=True)
    second = client.get("/admin/security?page=2").get_data(as_text=True)
    assert first.count('class="security-event"') == security_log.PAGE_SIZE
    assert second.count('class="security-event"') == 61 - security_log.PAGE_SIZE
    assert "Page 2 of 2 (61 events)" in second
    with app.app_context():
        ids = [e.id for e in security_log.agency_events(agency_id).events]
        newest = db.session.scalar(select(SecurityEvent.id).order_by(SecurityEvent.at.desc()).limit(1))
    assert ids[0] == newest and ids == sorted(ids, reverse=True)


@pytest.mark.postgresql_only
def test_postgresql_refuses_to_change_or_delete_an_event(app, site):
    sign_in(app, site.admin_email)
    for statement in ("UPDATE security_event SET kind = 'logout'", "DELETE FROM security_event"):
        with app.app_context():
            with pytest.raises(sqlalchemy.exc.ProgrammingError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
    assert [e.kind for e in events(app)] == ["staff_sign_in"]


def test_a_burst_of_per_address_refusals_is_recorded_once_without_what_was_typed(make_app, site):
    limited = make_app(SIGN_IN_RATE_PER_IP="2 per 10 minutes", STAFF_LOGIN_RATE="1 per 10 minutes")
    client = browser(limited)
    typed = [f"typed{n}@client.example" for n in range(5)]
    answers = [post(client, "/acme/login", email=email).status_code for email in typed]
    assert answers == [200, 200, 429, 429, 429]

    refused = only(limited, "rate_limited")
    assert (refused.agency_id is not None, refused.address, refused.subject_user_id) == (True, ADDRESS, None)
    assert refused.detail == {"route": "/<slug>/login", "limit": "2 per 10 minute"}
    another = browser(limited, "192.0.2.80")  # another address: a burst of its own
    assert [post(another, "/acme/login", email=e).status_code for e in typed[:3]] == [200, 200, 429]
    assert [e.address for e in events(limited, "rate_limited")] == [ADDRESS, "192.0.2.80"]

    # Staff sign-in: the event belongs to the agency of the account the typed address names.
    staff = browser(limited, "192.0.2.81")
    guesses = [post(staff, "/login", email=site.recruiter_email, password=f"guess {n}") for n in range(2)]
    assert [g.status_code for g in guesses] == [422, 429]
    (_, _, on_staff_login) = events(limited, "rate_limited")
    assert (on_staff_login.subject_user_id, on_staff_login.detail["route"]) == (site.recruiter_id, "/login")
    logged = " ".join(str(vars(event)) for event in events(limited, "rate_limited"))
    assert not any(email in logged for email in typed) and site.recruiter_email not in logged
    assert "guess" not in all_security_text(limited)

    admin = sign_in(limited, site.admin_email, address="192.0.2.82")
    page = admin.get("/admin/security?kind=rate_limited").get_data(as_text=True)
    assert page.count('data-kind="rate_limited"') == 3 and "route: /&lt;slug&gt;/login" in page
    assert '<option value="rate_limited" selected>rate limited</option>' in page


@pytest.mark.parametrize(
    ("limit", "kind", "detail"),
    [
        ("idle", "session_idle_timeout", {"idle_limit_minutes": 30}),
        ("absolute", "session_absolute_timeout", {"absolute_limit_hours": 12}),
    ],
)
def test_a_staff_session_ended_by_a_time_limit_is_recorded_when_next_presented(
    app, site, time_machine, limit, kind, detail
):
    time_machine.move_to(SESSION_START, tick=False)
    client = sign_in(app, site.recruiter_email)
    if limit == "idle":
        time_machine.shift(timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"]))
    else:  # active every 20 minutes (never idle) until the absolute limit
        elapsed = timedelta(0)
        while elapsed < timedelta(hours=app.config["STAFF_ABSOLUTE_TIMEOUT_HOURS"]):
            assert client.get("/agency/").status_code == 200
            time_machine.shift(timedelta(minutes=20))
            elapsed += timedelta(minutes=20)
    assert events(app, kind) == [], "nothing is recorded until the session is presented"

    ended = client.get("/agency/")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")
    recorded = only(app, kind)
    assert (recorded.subject_user_id, recorded.actor_user_id, recorded.address, recorded.detail) == (
        site.recruiter_id,
        None,
        ADDRESS,
        detail,
    )
    assert client.get("/agency/").status_code == 302
    assert len(events(app, kind)) == 1, "the cookie forgot who it was for: one record"

    admin = sign_in(app, site.admin_email)
    page = admin.get(f"/admin/security?kind={kind}").get_data(as_text=True)
    assert page.count(f'data-kind="{kind}"') == 1 and "Rhea Recruiter" in page
