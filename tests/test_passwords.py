"""Staff passwords (issue 12): a change while signed in, a reset by email, and the rules a new password
meets (length, not a common password, not the person's email or the agency's name).

Over HTTP with real sessions (the Flask test client, a copy of a cookie playing the thief), the real
worker step deciding which reset requests get a mail, and the real SMTP server receiving it.
"""

import html as html_text
import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Activity, MailOutbox, PasswordResetRequest, SecurityEvent, User
from portal.services import passwords, staff
from portal.worker import answer_password_reset_requests
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.test_auth import deactivate, deliver, post_with_token, site, staff_login
from tests.test_sessions import assert_sent_to_staff_sign_in, copy_of, session_of, workspace

__all__ = ["site"]  # the fixture, imported for these tests

NEW_PASSWORD = "plum tree under the bridge"
START = datetime(2041, 3, 10, 8, 0, tzinfo=UTC)
RESET_LINK = re.compile(r"http://127\.0\.0\.1:\d+(/account/reset-password/[A-Za-z0-9_.\-]+)")
CSRF_VALUES = re.compile(r'("X-CSRFToken": "|name="csrf_token" type="hidden" value=")[^"]+')


def password_matches(app, user_id: int, password: str) -> bool:
    with app.app_context():
        return db.session.get_one(User, user_id).check_password(password)


def field_error(html: str, field: str) -> str:
    """The message shown under ``field`` (empty when none)."""
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    return html_text.unescape(match.group(1)) if match else ""


def change(client, current: str, password: str, confirm: str | None = None):
    return post_with_token(
        client,
        "/account/password",
        current=current,
        password=password,
        confirm=password if confirm is None else confirm,
    )


# Change while signed in


def test_the_account_page_is_for_signed_in_staff(app, client, site):
    assert_sent_to_staff_sign_in(client.get("/account/"))
    staff_login(client, site.recruiter_email, PASSWORD)
    page = client.get("/account/")
    assert page.status_code == 200
    assert "Change your password" in page.get_data(as_text=True)


def test_a_change_keeps_this_session_and_ends_every_other(app, client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    phone = app.test_client()
    staff_login(phone, site.recruiter_email, PASSWORD)
    thief = copy_of(app, client)
    before = session_of(app, client)["_sid"]

    response = change(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert workspace(client).status_code == 200, "this session goes on"
    assert session_of(app, client)["_sid"] != before, "on a fresh session id"
    assert_sent_to_staff_sign_in(workspace(phone))
    assert_sent_to_staff_sign_in(workspace(thief))
    assert password_matches(app, site.recruiter_id, NEW_PASSWORD)
    assert staff_login(app.test_client(), site.recruiter_email, NEW_PASSWORD).status_code == 303
    assert staff_login(app.test_client(), site.recruiter_email, PASSWORD).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Activity.verb).where(Activity.verb == "user.password_changed"))


def test_a_wrong_current_password_is_refused_in_place_and_changes_nothing(app, client, site):
    staff_login(client, site.recruiter_email, PASSWORD)
    phone = app.test_client()
    staff_login(phone, site.recruiter_email, PASSWORD)

    response = change(client, "not my password at all", NEW_PASSWORD)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "current") == "That is not your current password."
    assert password_matches(app, site.recruiter_id, PASSWORD)
    assert workspace(client).status_code == 200 and workspace(phone).status_code == 200


def test_guessing_the_current_password_meets_the_sign_in_back_off(app, client, site, time_machine):
    """A borrowed session cannot be used to guess the password faster than the sign-in page allows."""
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    answers = [change(client, f"guess number {n:04}", NEW_PASSWORD) for n in range(7)]
    assert [answer.status_code for answer in answers] == [422] * 5 + [429] * 2
    # Five free failures, then 1 s to wait (the clock stands still): said in place and in Retry-After.
    assert answers[5].headers["Retry-After"] == "1"
    assert field_error(answers[5].get_data(as_text=True), "current") == "Too many attempts. Try again in 1 second."
    assert password_matches(app, site.recruiter_id, PASSWORD)


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("short one", None, "password", "Choose a password of at least 12 characters."),
        ("password1234", None, "password", "That is one of the most commonly used passwords"),
        ("Password1234", None, "password", "That is one of the most commonly used passwords"),
        ("1qaz2wsx3edc", None, "password", "That is one of the most commonly used passwords"),
        ("{email} and more", None, "password", "must not contain your email address or the agency's name"),
        ("AcmeTalent forever!", None, "password", "must not contain your email address or the agency's name"),
        (NEW_PASSWORD, "something else entirely", "confirm", "The two passwords do not match."),
    ],
)
def test_a_weak_new_password_is_refused_with_the_field_named(app, client, site, password, confirm, field, message):
    staff_login(client, site.recruiter_email, PASSWORD)
    password = password.format(email=site.recruiter_email)

    response = change(client, PASSWORD, password, confirm)

    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field)
    assert password_matches(app, site.recruiter_id, PASSWORD)
    assert workspace(client).status_code == 200


def test_the_common_password_list_is_bundled_and_large(app):
    common = passwords.common_passwords()
    assert len(common) > 10_000
    assert {"123456", "password", "iloveyou"} <= common


def test_an_invitation_link_refuses_a_common_password_too(app, site):
    with app.app_context():
        path = urlsplit(staff.set_password_url(db.session.get_one(User, site.recruiter_id))).path
    browser = app.test_client()
    response = post_with_token(browser, path, password="password1234", confirm="password1234")
    assert response.status_code == 422
    assert "most commonly used passwords" in field_error(response.get_data(as_text=True), "password")
    assert password_matches(app, site.recruiter_id, PASSWORD)


def test_a_contact_has_no_account_page(app, client, site):
    from tests.test_auth import issue

    post_with_token(client, issue(app, site.contact_id, "sign_in"))
    assert client.get("/account/").status_code == 404
    assert post_with_token(client, "/account/password", current="x", password="y", confirm="y").status_code == 404


# Reset by email


def ask_for_reset(client, email: str, ip: str = "127.0.0.1"):
    return client.post(
        "/account/forgot-password",
        data={"csrf_token": csrf_token(client), "email": email},
        environ_base={"REMOTE_ADDR": ip},
    )


def answer_and_deliver(app) -> int:
    """The worker's reset step, then its mail step; returns how many requests were answered."""
    with app.app_context():
        answered = answer_password_reset_requests()
    deliver(app)
    return answered


def reset_path(smtp, to: str) -> str:
    (message,) = [m for m in smtp.inbox.messages if to in m["to"]]
    text = message["message"].get_body(("plain",)).get_content()
    return RESET_LINK.search(text).group(1)


def test_the_sign_in_page_offers_a_reset(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/account/forgot-password"' in html
    assert client.get("/account/forgot-password").status_code == 200


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(app, site, smtp):
    known, unknown = site.recruiter_email, "nobody@acme.example"
    answers = []
    for email in (known, unknown):
        response = ask_for_reset(app.test_client(), email)
        assert response.status_code == 200
        answers.append(CSRF_VALUES.sub(r"\1…", response.get_data(as_text=True)).replace(email, "EMAIL"))
    assert answers[0] == answers[1]
    with app.app_context():
        queued = db.session.scalars(select(PasswordResetRequest.email).order_by(PasswordResetRequest.id)).all()
        assert queued == [known, unknown], "both queued as typed; no mail yet"
        assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 0

    assert answer_and_deliver(app) == 2
    smtp.inbox.wait_for(1)
    assert [m["to"] for m in smtp.inbox.messages] == [[known]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PasswordResetRequest)) == 0


def test_a_deactivated_user_gets_no_reset_mail(app, site, smtp):
    deactivate(app, User, site.recruiter_id)
    assert ask_for_reset(app.test_client(), site.recruiter_email).status_code == 200
    assert answer_and_deliver(app) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 0


def test_a_reset_link_works_once_and_ends_every_session(app, client, site, smtp):
    staff_login(client, site.recruiter_email, PASSWORD)
    thief = copy_of(app, client)
    ask_for_reset(app.test_client(), site.recruiter_email)
    answer_and_deliver(app)
    smtp.inbox.wait_for(1)
    path = reset_path(smtp, site.recruiter_email)
    browser = app.test_client()
    assert "Choose a new password" in browser.get(path).get_data(as_text=True)

    response = post_with_token(browser, path, password=NEW_PASSWORD, confirm=NEW_PASSWORD)

    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/login"
    assert_sent_to_staff_sign_in(workspace(client))
    assert_sent_to_staff_sign_in(workspace(thief))
    assert password_matches(app, site.recruiter_id, NEW_PASSWORD)
    # Used: the link explains itself and sets nothing.
    assert "no longer valid" in browser.get(path).get_data(as_text=True)
    again = post_with_token(browser, path, password="another good passphrase", confirm="another good passphrase")
    assert "no longer valid" in again.get_data(as_text=True)
    assert password_matches(app, site.recruiter_id, NEW_PASSWORD)
    assert staff_login(browser, site.recruiter_email, NEW_PASSWORD).status_code == 303


def test_a_reset_link_refuses_a_common_password_and_stays_usable(app, site, smtp):
    with app.app_context():
        path = urlsplit(passwords.reset_url(db.session.get_one(User, site.recruiter_id))).path
    browser = app.test_client()
    refused = post_with_token(browser, path, password="password1234", confirm="password1234")
    assert refused.status_code == 422
    assert "most commonly used" in field_error(refused.get_data(as_text=True), "password")
    assert post_with_token(browser, path, password=NEW_PASSWORD, confirm=NEW_PASSWORD).status_code == 303


def test_a_reset_link_expires_after_an_hour(app, site, time_machine):
    time_machine.move_to(START, tick=False)
    with app.app_context():
        user = db.session.get_one(User, site.recruiter_id)
        path = urlsplit(passwords.reset_url(user, now=START)).path
        token = path.rsplit("/", 1)[-1]
        assert passwords.user_for_reset(token, now=START + timedelta(minutes=59)) is not None
        assert passwords.user_for_reset(token, now=START + timedelta(hours=1)) is None
    browser = app.test_client()
    time_machine.move_to(START + timedelta(minutes=59), tick=False)
    assert browser.get(path).status_code == 200 and "Choose a new password" in browser.get(path).get_data(as_text=True)
    time_machine.move_to(START + timedelta(hours=1, seconds=1), tick=False)
    response = post_with_token(browser, path, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert "no longer valid" in response.get_data(as_text=True)
    assert password_matches(app, site.recruiter_id, PASSWORD)


def test_a_forged_or_foreign_token_is_not_a_reset_link(app, site):
    with app.app_context():
        invitation = staff.set_password_url(db.session.get_one(User, site.recruiter_id)).rsplit("/", 1)[-1]
    browser = app.test_client()
    for token in ("nonsense", invitation):  # another link's signature is not a reset link's
        assert "no longer valid" in browser.get(f"/account/reset-password/{token}").get_data(as_text=True)


def submit_together(app, path: str, chosen: tuple[str, str]) -> list[tuple[int, str]]:
    """Two browsers submit one password link at the same moment (real threads, released by a
    barrier), each with a password of its own; their answers (status, page), in the order they came."""
    browsers = []
    for _ in range(2):
        browser = app.test_client()
        browsers.append((browser, csrf_token(browser)))
    barrier = threading.Barrier(2)
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def submit(browser, token, password):
        try:
            barrier.wait(30)
            response = browser.post(path, data={"csrf_token": token, "password": password, "confirm": password})
            answers.append((response.status_code, response.get_data(as_text=True)))
        except BaseException as exc:  # handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=submit, args=(*pair, pw)) for pair, pw in zip(browsers, chosen, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and len(answers) == 2
    return answers


def test_one_link_used_twice_at_once_sets_one_password(app, site):
    """Two browsers submit the same reset link at the same moment (real threads): one wins."""
    with app.app_context():
        path = urlsplit(passwords.reset_url(db.session.get_one(User, site.recruiter_id))).path
    chosen = ("first racing passphrase", "second racing passphrase")
    statuses = [status for status, _ in submit_together(app, path, chosen)]
    # The loser is told the link was used: by the page (it looked after the winner's commit) or in place.
    assert sorted(statuses) in ([200, 303], [303, 422]), statuses
    assert sum(password_matches(app, site.recruiter_id, pw) for pw in chosen) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Activity.verb == "user.password_reset")) == 1


def test_one_invitation_redeemed_twice_at_once_sets_one_password(app, site):
    """Two browsers submit the same set-password invitation at the same moment (real threads): one
    password is set, and the other browser is told the link was already used, with nothing saved."""
    with app.app_context():
        path = urlsplit(staff.set_password_url(db.session.get_one(User, site.recruiter_id))).path
    chosen = ("first invited passphrase", "second invited passphrase")

    answers = submit_together(app, path, chosen)

    assert sorted(status == 303 for status, _ in answers) == [False, True], [status for status, _ in answers]
    ((loser_status, loser_page),) = [answer for answer in answers if answer[0] != 303]
    # Refused by the page (it looked after the winner's commit) or in place (it raced the commit).
    assert loser_status in (200, 422), loser_status
    assert ("This link is no longer valid" in loser_page) or (staff.LINK_INVALID in html_text.unescape(loser_page))
    assert sum(password_matches(app, site.recruiter_id, pw) for pw in chosen) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Activity.verb == "user.password_set")) == 1
        kinds = db.session.scalars(select(SecurityEvent.kind).where(SecurityEvent.kind == "password_set")).all()
    assert kinds == ["password_set"]
