"""The optional second factor for staff (issue 12): enrol with an authenticator app, sign in with a code
after the password, a recovery code once, and turning it off with the password and a code.

Over HTTP with real sessions. The codes are computed with pyotp at a fixed instant passed explicitly
(``two_factor.code_at``); the app reads the same instant because the test holds the clock there with
time-machine (never the wall clock).
"""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import RecoveryCode, SecurityEvent, User
from portal.services import two_factor
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.test_auth import post_with_token, site, staff_login
from tests.test_passwords import field_error
from tests.test_sessions import assert_sent_to_staff_sign_in, copy_of, workspace

__all__ = ["site"]  # the fixture, imported for these tests

START = datetime(2041, 3, 10, 8, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def code(secret: str, at: datetime) -> str:
    return two_factor.code_at(secret, at)


def enrol(client) -> tuple[str, list[str]]:
    """Turn the factor on from the account page; returns the secret and the recovery codes shown."""
    assert post_with_token(client, "/account/second-factor").status_code == 303
    page = client.get("/account/").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert f"secret={secret}" in re.search(r'<code id="totp-uri">([^<]+)</code>', page).group(1)
    confirmed = post_with_token(client, "/account/second-factor/confirm", code=code(secret, START))
    assert confirmed.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", confirmed.get_data(as_text=True))
    return secret, codes


def sign_in_with_code(app, email: str, second: str, at: datetime, time_machine):
    """Password, then code; returns (browser, response to the code)."""
    time_machine.move_to(at, tick=False)
    browser = app.test_client()
    first = staff_login(browser, email, PASSWORD)
    assert first.status_code == 303 and first.headers["Location"] == "/login/code"
    return browser, post_with_token(browser, "/login/code", code=second)


@pytest.fixture
def enrolled(app, client, site, time_machine):
    """The recruiter, signed in on ``client``, with the second factor on (enrolled at START)."""
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    return enrol(client)


def test_enrolment_needs_a_right_code_and_shows_ten_recovery_codes_once(app, client, site, time_machine):
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    phone = app.test_client()
    staff_login(phone, site.recruiter_email, PASSWORD)
    post_with_token(client, "/account/second-factor")
    page = client.get("/account/").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert "otpauth://totp/" in page

    wrong = post_with_token(client, "/account/second-factor/confirm", code=code(secret, START + 10 * STEP))
    assert wrong.status_code == 422
    assert "That code is not right" in field_error(wrong.get_data(as_text=True), "code")
    with app.app_context():
        assert not two_factor.required(db.session.get_one(User, site.recruiter_id))

    right = post_with_token(client, "/account/second-factor/confirm", code=code(secret, START))
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", right.get_data(as_text=True))
    assert right.status_code == 200 and len(set(codes)) == 10
    assert workspace(client).status_code == 200, "this session goes on"
    assert_sent_to_staff_sign_in(workspace(phone))
    later = client.get("/account/").get_data(as_text=True)
    assert "10 recovery codes left" in later and codes[0] not in later, "shown once"
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not set(codes) & set(stored), "only hashes are kept"


def test_sign_in_asks_for_the_code_after_the_password(app, site, enrolled, time_machine):
    secret, _ = enrolled
    at = START + STEP
    time_machine.move_to(at, tick=False)
    browser = app.test_client()
    first = staff_login(browser, site.recruiter_email, PASSWORD)
    assert first.status_code == 303 and first.headers["Location"] == "/login/code"
    assert_sent_to_staff_sign_in(workspace(browser))  # a right password alone does not sign in

    wrong = post_with_token(browser, "/login/code", code=code(secret, at + 10 * STEP))
    assert wrong.status_code == 422 and two_factor.WRONG_CODE in field_error(wrong.get_data(as_text=True), "code")
    right = post_with_token(browser, "/login/code", code=code(secret, at))
    assert right.status_code == 303 and right.headers["Location"] == "/agency/"
    assert workspace(browser).status_code == 200


def test_a_code_works_once(app, site, enrolled, time_machine):
    secret, _ = enrolled
    at = START + STEP
    _, first = sign_in_with_code(app, site.recruiter_email, code(secret, at), at, time_machine)
    assert first.status_code == 303
    _, replay = sign_in_with_code(app, site.recruiter_email, code(secret, at), at, time_machine)
    assert replay.status_code == 422
    # The enrolment's own code (an earlier step) is spent too.
    _, older = sign_in_with_code(app, site.recruiter_email, code(secret, START), at, time_machine)
    assert older.status_code == 422


def test_a_recovery_code_works_once(app, client, site, enrolled, time_machine):
    _, codes = enrolled
    at = START + STEP
    browser, used = sign_in_with_code(app, site.recruiter_email, codes[3].upper(), at, time_machine)
    assert used.status_code == 303 and workspace(browser).status_code == 200
    _, again = sign_in_with_code(app, site.recruiter_email, codes[3], at + STEP, time_machine)
    assert again.status_code == 422
    assert "9 recovery codes left" in browser.get("/account/").get_data(as_text=True)


def test_a_pending_sign_in_allows_a_few_codes_then_the_back_off_applies(app, site, enrolled, time_machine):
    secret, _ = enrolled
    at = START + STEP
    time_machine.move_to(at, tick=False)
    browser = app.test_client()
    staff_login(browser, site.recruiter_email, PASSWORD)
    statuses = [
        post_with_token(browser, "/login/code", code=f"{n:06}").status_code for n in range(two_factor.PENDING_TRIES)
    ]
    assert set(statuses) <= {422, 429}
    # The pending sign-in is spent: even the right code now sends the person back to the password.
    spent = post_with_token(browser, "/login/code", code=code(secret, at))
    assert spent.status_code == 303 and spent.headers["Location"] == "/login"
    # Password and codes share the account's back-off: starting again at once is refused.
    assert staff_login(browser, site.recruiter_email, PASSWORD).status_code == 429
    # Later, once the back-off allows each attempt, the right password and code sign in.
    time_machine.move_to(at + 40 * STEP, tick=False)
    assert staff_login(browser, site.recruiter_email, PASSWORD).headers["Location"] == "/login/code"
    typed_at = at + 41 * STEP
    time_machine.move_to(typed_at, tick=False)
    later = post_with_token(browser, "/login/code", code=code(secret, typed_at))
    assert later.status_code == 303 and workspace(browser).status_code == 200


def test_a_pending_sign_in_expires(app, site, enrolled, time_machine):
    secret, _ = enrolled
    at = START + STEP
    time_machine.move_to(at, tick=False)
    browser = app.test_client()
    staff_login(browser, site.recruiter_email, PASSWORD)
    late = at + two_factor.PENDING_LIFETIME
    time_machine.move_to(late, tick=False)
    response = post_with_token(browser, "/login/code", code=code(secret, late))
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert_sent_to_staff_sign_in(workspace(browser))


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(client):
    response = client.get("/login/code")
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_turning_it_off_takes_the_password_and_a_code(app, client, site, enrolled, time_machine):
    secret, _ = enrolled
    at = START + STEP
    time_machine.move_to(at, tick=False)
    url = "/account/second-factor/disable"

    wrong_password = post_with_token(client, url, password="not my password", code=code(secret, at))
    assert wrong_password.status_code == 422
    assert field_error(wrong_password.get_data(as_text=True), "password") == "That is not your current password."
    wrong_code = post_with_token(client, url, password=PASSWORD, code="000000")
    assert wrong_code.status_code == 422 and two_factor.WRONG_CODE in field_error(
        wrong_code.get_data(as_text=True), "code"
    )
    with app.app_context():
        assert two_factor.required(db.session.get_one(User, site.recruiter_id))

    done = post_with_token(client, url, password=PASSWORD, code=code(secret, at))
    assert done.status_code == 303
    with app.app_context():
        assert not two_factor.required(db.session.get_one(User, site.recruiter_id))
        assert db.session.scalars(select(RecoveryCode)).all() == []
    plain = app.test_client()
    assert staff_login(plain, site.recruiter_email, PASSWORD).headers["Location"] == "/agency/"


def test_codes_at_an_explicit_instant_allow_one_step_of_clock_drift(app, site):
    """The service alone, at fixed instants: a code of the step before or after now is accepted, one
    two steps away is not."""
    with app.app_context():
        user = db.session.get_one(User, site.recruiter_id)
        two_factor.start_enrolment(user)
        secret = user.totp_secret
        two_factor.confirm_enrolment(user, code(secret, START - 5 * STEP), now=START - 5 * STEP)
        assert two_factor.verify(user, code(secret, START - STEP), now=START)
        assert two_factor.verify(user, code(secret, START + STEP), now=START)
        assert not two_factor.verify(user, code(secret, START + 3 * STEP), now=START)
        assert not two_factor.verify(user, code(secret, START - 2 * STEP), now=START + 2 * STEP)
        db.session.rollback()


def test_one_recovery_code_used_twice_at_once_signs_in_once(app, site, enrolled, time_machine):
    """Two browsers past the password submit the same recovery code at the same moment (real threads)."""
    _, codes = enrolled
    time_machine.move_to(START + STEP, tick=False)
    browsers = []
    for _ in range(2):
        browser = app.test_client()
        staff_login(browser, site.recruiter_email, PASSWORD)
        browsers.append((browser, csrf_token(browser)))
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def submit(browser, token):
        try:
            barrier.wait(30)
            statuses.append(browser.post("/login/code", data={"csrf_token": token, "code": codes[0]}).status_code)
        except BaseException as exc:  # handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=submit, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(statuses) == [303, 422], statuses


def test_a_copied_cookie_from_before_enrolment_stops_working(app, client, site, time_machine):
    time_machine.move_to(START, tick=False)
    staff_login(client, site.recruiter_email, PASSWORD)
    thief = copy_of(app, client)
    enrol(client)
    assert_sent_to_staff_sign_in(workspace(thief))
    assert workspace(client).status_code == 200


def test_the_page_asked_for_before_sign_in_is_kept_through_the_code(app, site, enrolled, time_machine):
    secret, _ = enrolled
    at = START + STEP
    time_machine.move_to(at, tick=False)
    browser = app.test_client()
    assert staff_login(browser, site.recruiter_email, PASSWORD, query="?next=/agency/tasks").status_code == 303
    response = post_with_token(browser, "/login/code", code=code(secret, at))
    assert response.status_code == 303 and response.headers["Location"] == "/agency/tasks"


def test_turning_it_on_and_off_and_using_a_recovery_code_are_in_the_security_log(
    app, client, site, enrolled, time_machine
):
    secret, codes = enrolled
    at = START + STEP
    _, used = sign_in_with_code(app, site.recruiter_email, codes[0], at, time_machine)
    assert used.status_code == 303
    time_machine.move_to(at + STEP, tick=False)
    off = post_with_token(client, "/account/second-factor/disable", password=PASSWORD, code=code(secret, at + STEP))
    assert off.status_code == 303

    with app.app_context():
        kept = db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
        events = [(e.kind, e.actor_user_id, e.subject_user_id, e.detail) for e in kept]
        logged = " ".join(f"{e.kind} {e.detail} {e.address}" for e in kept)
    mine = [event for event in events if event[0] in {"second_factor_on", "recovery_code_used", "second_factor_off"}]
    assert mine == [
        ("second_factor_on", site.recruiter_id, site.recruiter_id, {}),
        ("recovery_code_used", site.recruiter_id, site.recruiter_id, {"codes_left": 9}),
        ("second_factor_off", site.recruiter_id, site.recruiter_id, {}),
    ]
    assert secret not in logged and not any(recovery in logged for recovery in codes), "no secret in the log"
