"""Sessions that really end (issue 12): logout, a new password, a role change and deactivation end
a session server-side, so a copied cookie stops working too; staff sessions have an idle and an
absolute limit, client contacts an absolute one; every sign-in starts a fresh session.

Each test drives real sessions through the Flask test client; "the copy" is a second client given
the first one's session cookie, as a thief with the cookie would be. The clock is moved with
time-machine, never read from the wall.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ClientContact, EndedSession, User
from portal.services import staff
from tests.conftest import csrf_token, login_as
from tests.factories import PASSWORD, make_user
from tests.test_auth import Site, deactivate, issue, post_with_token, signed_in_home, site, staff_login

__all__ = ["site"]  # the fixture, imported for these tests

COOKIE = "portal_session"
START = datetime(2041, 3, 10, 8, 0, tzinfo=UTC)


def copy_of(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "the first client has no session cookie"
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def session_of(app, client) -> dict:
    """What ``client``'s session cookie holds (checking its signature)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def workspace(client):
    return client.get("/agency/")


def assert_sent_to_staff_sign_in(response):
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def contact_signs_in(app, client, site: Site) -> None:
    post_with_token(client, issue(app, site.contact_id, "sign_in"))
    assert signed_in_home(client, site).status_code == 200


# Ending sessions server-side


def test_logout_ends_a_copied_staff_cookie(app, client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    thief = copy_of(app, client)
    assert workspace(thief).status_code == 200

    post_with_token(client, "/logout")

    assert_sent_to_staff_sign_in(workspace(thief))
    assert_sent_to_staff_sign_in(workspace(client))


def test_logout_ends_a_copied_contact_cookie_but_not_their_emailed_links(app, client, site):
    landing = issue(app, site.contact_id, "landing", site.job_id)
    post_with_token(client, landing)
    thief = copy_of(app, client)
    assert signed_in_home(thief, site).status_code == 200

    post_with_token(client, "/logout")

    response = signed_in_home(thief, site)
    assert response.status_code == 302 and response.headers["Location"] == f"/{site.slug}/login"
    # Logging out ends this session, not the contact's links: the landing link signs in again.
    again = post_with_token(client, landing)
    assert again.status_code == 303 and again.headers["Location"] == f"/{site.slug}/portal/jobs/{site.job_id}"
    assert signed_in_home(client, site).status_code == 200


def test_logout_ends_this_session_only(app, client, site):
    """Signing out on the laptop leaves the phone signed in (a different session of the same person)."""
    phone = app.test_client()
    staff_login(client, site.recruiter_email, PASSWORD)
    staff_login(phone, site.recruiter_email, PASSWORD)

    post_with_token(client, "/logout")

    assert_sent_to_staff_sign_in(workspace(client))
    assert workspace(phone).status_code == 200


def test_logging_out_twice_with_the_same_cookie_records_it_once(app, client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    token = csrf_token(client)
    thief = copy_of(app, client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert thief.post("/logout", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(EndedSession)).all()) == 1


def test_ended_session_ids_are_forgotten_once_their_sessions_would_have_expired(app, client, site, time_machine):
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    post_with_token(client, "/logout")
    time_machine.shift(timedelta(hours=app.config["STAFF_ABSOLUTE_TIMEOUT_HOURS"], seconds=1))
    later = app.test_client()
    staff_login(later, site.recruiter_email, PASSWORD)
    later_id = session_of(app, later)["_sid"]

    post_with_token(later, "/logout")

    with app.app_context():
        assert db.session.scalars(select(EndedSession.id)).all() == [later_id]


def test_setting_a_password_ends_every_session_of_the_account(app, client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    thief = copy_of(app, client)
    with app.app_context():
        url = staff.set_password_url(db.session.get_one(User, site.recruiter_id))
    path = urlsplit(url).path
    browser = app.test_client()
    new_password = "a brand new passphrase"
    response = post_with_token(browser, path, password=new_password, confirm=new_password)
    assert response.status_code == 303

    assert_sent_to_staff_sign_in(workspace(thief))
    assert_sent_to_staff_sign_in(workspace(client))
    assert staff_login(browser, site.recruiter_email, new_password).status_code == 303
    assert workspace(browser).status_code == 200


def test_a_role_change_ends_the_sessions_of_the_person_changed(app, client, site):
    with app.app_context():
        admin = make_user(db.session.get_one(User, site.recruiter_id).agency, "admin")
        db.session.commit()
        admin_email = admin.email
    staff_login(client, site.recruiter_email, PASSWORD)
    thief = copy_of(app, client)
    admin_browser = app.test_client()
    staff_login(admin_browser, admin_email, PASSWORD)

    response = post_with_token(admin_browser, f"/admin/users/{site.recruiter_id}/role", role="admin")
    assert response.status_code in (200, 303)
    with app.app_context():
        assert db.session.get_one(User, site.recruiter_id).role == "admin"

    assert_sent_to_staff_sign_in(workspace(thief))
    assert_sent_to_staff_sign_in(workspace(client))
    assert workspace(admin_browser).status_code == 200  # the admin's own session is untouched


@pytest.mark.parametrize("model", [User, ClientContact], ids=["staff", "contact"])
def test_deactivation_ends_a_copied_cookie(app, client, site, model):
    if model is User:
        staff_login(client, site.recruiter_email, PASSWORD)
        page, principal_id = "/agency/", site.recruiter_id
    else:
        contact_signs_in(app, client, site)
        page, principal_id = f"/{site.slug}/portal/", site.contact_id
    thief = copy_of(app, client)
    assert thief.get(page).status_code == 200

    deactivate(app, model, principal_id)

    assert thief.get(page).status_code == 302
    assert client.get(page).status_code == 302


def test_a_session_from_before_these_limits_is_asked_to_sign_in_again(app, client, site):
    """A cookie with only Flask-Login's id (no session id, no sign-in time) is not honoured."""
    with client.session_transaction() as session:
        session["_user_id"] = f"u:{site.recruiter_id}:1"
    assert_sent_to_staff_sign_in(workspace(client))


# A fresh session at every sign-in


def test_every_sign_in_starts_a_fresh_session(app, client, site):
    client.get("/login")
    before = session_of(app, client)
    assert "csrf_token" in before and "_sid" not in before

    staff_login(client, site.recruiter_email, PASSWORD)
    first = session_of(app, client)
    assert first["_sid"] and first.get("csrf_token") != before["csrf_token"]
    assert first["_user_id"] == f"u:{site.recruiter_id}:1"

    staff_login(client, site.recruiter_email, PASSWORD)
    second = session_of(app, client)
    assert second["_sid"] != first["_sid"]


def test_a_planted_session_is_not_carried_into_the_sign_in(app, client, site):
    """Whatever the session held before (say, values an attacker fixed) is gone after sign-in."""
    with client.session_transaction() as session:
        session["_sid"] = "chosen-by-the-attacker"
        session["planted"] = "yes"
    contact_signs_in(app, client, site)
    after = session_of(app, client)
    assert "planted" not in after and after["_sid"] != "chosen-by-the-attacker"


def test_staff_cookie_ends_with_the_browser_and_a_contact_cookie_lasts_the_client_session(app, client, site):
    """No 14-day renew-forever cookie for staff: theirs is a browser-session cookie."""
    response = staff_login(client, site.recruiter_email, PASSWORD)
    session_name = app.config["SESSION_COOKIE_NAME"]
    (staff_cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{session_name}=")]
    assert "Expires=" not in staff_cookie and "Max-Age" not in staff_cookie
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))

    browser = app.test_client()
    response = post_with_token(browser, issue(app, site.contact_id, "sign_in"))
    assert "Expires=" in response.headers["Set-Cookie"]
    # Pages seen while signed in do not renew the contact's cookie (the first one stores a CSRF token).
    signed_in_home(browser, site)
    assert "Set-Cookie" not in signed_in_home(browser, site).headers


# Idle and absolute limits (the clock is moved; nothing waits)


def test_staff_session_ends_after_the_idle_limit(app, client, site, time_machine):
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    idle = timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"])
    assert idle == timedelta(minutes=30)

    time_machine.shift(idle - timedelta(minutes=1))
    assert workspace(client).status_code == 200
    time_machine.shift(idle)
    assert_sent_to_staff_sign_in(workspace(client))


def test_activity_extends_the_idle_limit_but_not_the_absolute_one(app, client, site, time_machine):
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    absolute = timedelta(hours=app.config["STAFF_ABSOLUTE_TIMEOUT_HOURS"])
    assert absolute == timedelta(hours=12)
    step = timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"] - 5)

    elapsed = timedelta(0)
    while elapsed + step < absolute:
        time_machine.shift(step)
        elapsed += step
        assert workspace(client).status_code == 200, f"ended after {elapsed} of steady work"
    time_machine.move_to(START + absolute, tick=False)
    assert_sent_to_staff_sign_in(workspace(client))


def test_idle_and_absolute_limits_are_configurable(make_app, site, time_machine):
    short = make_app(STAFF_IDLE_TIMEOUT_MINUTES=5, STAFF_ABSOLUTE_TIMEOUT_HOURS=1)
    time_machine.move_to(START, tick=False)
    browser = short.test_client()
    staff_login(browser, site.recruiter_email, PASSWORD)
    time_machine.shift(timedelta(minutes=4))
    assert workspace(browser).status_code == 200
    time_machine.shift(timedelta(minutes=5))
    assert_sent_to_staff_sign_in(workspace(browser))


def test_contact_session_has_no_idle_limit_but_ends_after_the_client_session_days(app, client, site, time_machine):
    time_machine.move_to(START, tick=False)
    contact_signs_in(app, client, site)
    days = timedelta(days=app.config["CLIENT_SESSION_DAYS"])
    assert days == timedelta(days=14)

    time_machine.shift(days - timedelta(minutes=1))  # away for almost two weeks, not a request
    assert signed_in_home(client, site).status_code == 200
    time_machine.shift(timedelta(minutes=1))
    response = signed_in_home(client, site)
    assert response.status_code == 302 and response.headers["Location"] == f"/{site.slug}/login"


def test_a_test_login_gets_a_complete_session(app, client, site):
    """``login_as`` (for tests that are not about sign-in) builds the same session a sign-in does."""
    with app.app_context():
        login_as(client, db.session.get_one(User, site.recruiter_id))
    assert workspace(client).status_code == 200


def test_the_alert_badge_poll_does_not_keep_an_idle_session_alive(app, client, site, time_machine):
    """An open tab polls every 15 s; the person is still idle, and the poll itself sends them to sign in."""
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    for _ in range(2):
        time_machine.shift(timedelta(minutes=14))
        assert client.get("/agency/alerts/badge", headers={"HX-Request": "true"}).status_code == 200
    time_machine.shift(timedelta(minutes=2))
    poll = client.get("/agency/alerts/badge", headers={"HX-Request": "true"})
    assert poll.status_code == 204 and poll.headers["HX-Redirect"].startswith("/login?next=")
