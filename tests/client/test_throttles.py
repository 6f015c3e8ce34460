"""Per-person throttles on comments and client actions (issue 12: one scanner left 1,547
comments), refused in place with nothing saved; paginated comment threads; and what happens
when the shared rate-limit storage stops answering."""

import logging
import os
import socket
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Application, ClientContact, Comment, Rating, TaskComment
from portal.ratelimit import check_web_storage
from portal.services import client_actions as actions
from portal.services.tasks import comment_on_task, generate_task
from tests.conftest import csrf_token, login_as
from tests.factories import make_tenant
from tests.servers import free_port

HX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The in-memory counters read the clock: with it stopped, a refusal's wait is exact.
START = datetime(2038, 2, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def tenant(app):
    with app.app_context():
        made = make_tenant("throttleco")
        return SimpleNamespace(
            slug=made.agency.slug,
            application_id=made.application.id,
            unshared_id=made.unshared_application.id,
            contact_id=made.contact.id,
        )


def signed_in(app, tenant, ip="10.1.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    with app.app_context():
        login_as(client, db.session.get(ClientContact, tenant.contact_id))
    return client


def url(t, suffix=""):
    return f"/{t.slug}/portal/candidates/{t.application_id}{suffix}"


def post(client, path, data=None):
    return client.post(path, data=data or {}, headers={"X-CSRFToken": csrf_token(client), **HX})


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_wait(response, seconds: int, words: str) -> None:
    """A 429 that says when to try again: in seconds for the browser, in words for the person."""
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(seconds)
    assert f"Try again in {words}." in response.get_data(as_text=True)


@pytest.mark.time_machine(START, tick=False)
def test_comments_are_throttled_per_contact_in_place(make_app, tenant):
    app = make_app(CLIENT_COMMENT_RATE="3 per minute;100 per day")
    client = signed_in(app, tenant)

    for n in range(3):
        assert post(client, url(tenant, "/comments"), {"body": f"Note {n}"}).status_code == 200
    # A new address does not buy a new bucket: the limit is the contact's.
    client.environ_base["REMOTE_ADDR"] = "10.1.0.99"
    refused = post(client, url(tenant, "/comments"), {"body": "One more"})

    assert_wait(refused, 60, "1 minute")
    html = refused.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="comments-{tenant.application_id}"'), "the thread, not a page"
    assert "Nothing was saved. Try again in 1 minute." in html and "One more" in html
    assert count(app, Comment) == 3


@pytest.mark.time_machine(START, tick=False)
def test_a_spent_daily_rate_says_when_the_day_is_over(make_app, tenant):
    app = make_app(CLIENT_COMMENT_RATE="10 per minute;2 per day")
    client = signed_in(app, tenant)
    for n in range(2):
        assert post(client, url(tenant, "/comments"), {"body": f"Note {n}"}).status_code == 200

    # The minute still has room; the day has none: the wait is the day's.
    assert_wait(post(client, url(tenant, "/comments"), {"body": "More"}), 24 * 3600, "24 hours")


@pytest.mark.time_machine(START, tick=False)
def test_client_actions_are_throttled_and_save_nothing(make_app, tenant):
    app = make_app(CLIENT_ACTION_RATE="2 per minute")
    client = signed_in(app, tenant)

    assert post(client, url(tenant, "/rating"), {"stars": "4"}).status_code == 200
    assert post(client, url(tenant, "/rating"), {"stars": "5"}).status_code == 200
    refused_rating = post(client, url(tenant, "/rating"), {"stars": "1"})
    refused_reject = post(client, url(tenant, "/reject"))

    for response in (refused_rating, refused_reject):
        assert_wait(response, 60, "1 minute")
        assert "<html" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Rating.stars)).all() == [5]
        assert db.session.get(Application, tenant.application_id).client_status != "rejected_by_client"


@pytest.mark.time_machine(START, tick=False)
def test_hire_form_refuses_in_place(make_app, tenant):
    app = make_app(CLIENT_ACTION_RATE="1 per minute")
    client = signed_in(app, tenant)
    post(client, url(tenant, "/rating"), {"stars": "3"})

    refused = post(client, url(tenant, "/hire"), {"note": "Welcome"})

    assert_wait(refused, 60, "1 minute")
    with app.app_context():
        assert db.session.get(Application, tenant.application_id).client_status != "hire_requested"


def test_comment_length_is_bounded(app, tenant):
    client = signed_in(app, tenant)
    refused = post(client, url(tenant, "/comments"), {"body": "x" * 4001})
    assert refused.status_code == 422 and "under 4,000 characters" in refused.get_data(as_text=True)
    assert count(app, Comment) == 0


# Threads come a page at a time


def test_thread_shows_the_newest_page_and_loads_earlier_ones(app, tenant):
    with app.app_context():
        application = db.session.get(Application, tenant.application_id)
        contact = db.session.get(ClientContact, tenant.contact_id)
        for n in range(45):
            actions.add_comment(contact, application, f"Comment number {n:02d}.")
        db.session.commit()
    client = signed_in(app, tenant)

    page = client.get(url(tenant)).get_data(as_text=True)
    assert "Comment number 44." in page and "Comment number 25." in page and "Comment number 24." not in page
    assert page.index("Comment number 25.") < page.index("Comment number 44."), "oldest first within a page"
    link = page.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert ">Show earlier comments</a>" in page

    earlier = client.get(link, headers=HX).get_data(as_text=True)
    assert "Comment number 05." in earlier and "Comment number 24." in earlier
    assert "Comment number 04." not in earlier and "Comment number 25." not in earlier
    last_link = earlier.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    first = client.get(last_link, headers=HX).get_data(as_text=True)
    assert "Comment number 00." in first and "Comment number 04." in first
    assert "Show earlier comments" not in first and "No comments yet" not in first

    # Without htmx the link opens the candidate page on that part of the thread.
    whole = client.get(link)
    assert whole.status_code == 200 and "Comment number 24." in whole.get_data(as_text=True)


def test_earlier_comments_follow_the_shared_only_scope(app, tenant):
    client = signed_in(app, tenant)
    hidden = f"/{tenant.slug}/portal/candidates/{tenant.unshared_id}/comments/earlier?before=9"
    assert client.get(hidden, headers=HX).status_code == 404


# Shared counters: the real Redis, and Redis gone


@pytest.fixture
def redis_prefix():
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        connection.close()
        pytest.skip(f"Redis is not running at {REDIS_URL}: the shared throttle test did not run")
    prefix = f"portal-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(connection.scan_iter(f"{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def test_two_workers_share_the_comment_throttle_in_redis(make_app, tenant, redis_prefix):
    settings = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": redis_prefix},
        "CLIENT_COMMENT_RATE": "4 per minute",
    }
    workers = [signed_in(make_app(**settings), tenant) for _ in range(2)]

    answers = [post(workers[n % 2], url(tenant, "/comments"), {"body": f"n{n}"}) for n in range(6)]

    assert [answer.status_code for answer in answers] == [200] * 4 + [429] * 2
    assert count(workers[0].application, Comment) == 4
    # Redis keeps the window (and its clock): the wait is whatever is left of the minute.
    assert all(1 <= int(answer.headers["Retry-After"]) <= 60 for answer in answers[4:])
    assert all("Nothing was saved. Try again in " in answer.get_data(as_text=True) for answer in answers[4:])


# Both apps below count 2 staff sign-ins per 10 minutes and 2 comments a minute.
FEW = {"STAFF_LOGIN_RATE": "2 per 10 minutes", "CLIENT_COMMENT_RATE": "2 per minute"}


def assert_limits_count_in_memory(app, tenant, caplog, failure: str) -> None:
    """Sign-in and comments answer, their limits still counting (in this process's memory) after
    the storage failed with ``failure``; /healthz says so."""
    anonymous = app.test_client()
    answers = [
        anonymous.post(
            "/login", data={"csrf_token": csrf_token(anonymous), "email": "nobody@x.example", "password": "wrong-one"}
        ).status_code
        for _ in range(3)
    ]
    assert answers == [422, 422, 429], "sign-in answers, and its limit still counts (in memory)"
    assert f"Rate-limit storage unreachable ({failure})" in caplog.text

    client = signed_in(app, tenant)
    comments = [post(client, url(tenant, "/comments"), {"body": f"c{n}"}).status_code for n in range(3)]
    assert comments == [200, 200, 429]

    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and "rate limits degraded" in health["reasons"]


def test_redis_down_keeps_sign_in_and_throttles_working(make_app, tenant, caplog, monkeypatch):
    # The migrations' logging.config.fileConfig disabled the loggers that existed then.
    monkeypatch.setattr(logging.getLogger("portal.ratelimit"), "disabled", False)
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0", **FEW)
    assert_limits_count_in_memory(app, tenant, caplog, "ConnectionError")


@pytest.fixture
def silent_redis():
    """A TCP server that accepts every connection and never says a word: a hung Redis. Yields its
    URI and the connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=serve, name="silent-redis")
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0", accepted
    stop.set()
    thread.join(10)
    for connection in accepted:
        connection.close()
    server.close()


def test_a_redis_that_never_answers_does_not_hold_requests(make_app, tenant, silent_redis, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("portal.ratelimit"), "disabled", False)
    uri, accepted = silent_redis
    app = make_app(RATELIMIT_STORAGE_URI=uri, RATELIMIT_TIMEOUT_S=0.2, **FEW)

    assert_limits_count_in_memory(app, tenant, caplog, "TimeoutError")
    assert accepted, "the requests did reach the silent server (and gave up waiting for its answer)"


# Only the web process needs shared counters


def production(app_config, **settings):
    return {**app_config, "ENV_NAME": "production", "SECRET_KEY": "x", **settings}


def test_only_the_web_process_refuses_per_process_counters(make_app, app_config, monkeypatch):
    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("PORTAL_RATELIMIT_SINGLE_PROCESS", raising=False)
    app = make_app(**production(app_config, RATELIMIT_STORAGE_URI=None))  # what db upgrade and the worker build

    with pytest.raises(RuntimeError, match="PORTAL_RATELIMIT_STORAGE_URI=redis://"):
        check_web_storage(app, workers=2)
    single = make_app(**production(app_config, RATELIMIT_SINGLE_PROCESS=True))
    check_web_storage(single, workers=1)
    with pytest.raises(RuntimeError, match="--workers 1"):
        check_web_storage(single, workers=2)
    check_web_storage(make_app(**production(app_config, RATELIMIT_STORAGE_URI=REDIS_URL)), workers=2)


def _production_env(database_url):
    env = {**os.environ, "PORTAL_ENV": "production", "SECRET_KEY": "x", "DATABASE_URL": database_url}
    env["PYTHONPATH"] = str(ROOT)
    for name in ("PORTAL_RATELIMIT_STORAGE_URI", "PORTAL_RATELIMIT_SINGLE_PROCESS", "FLASK_APP"):
        env.pop(name, None)
    return env


def test_gunicorn_refuses_while_db_upgrade_runs(database_url, app):
    env = _production_env(database_url)
    upgrade = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr

    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}"]
    command += ["--workers", "2", "--no-control-socket", "wsgi:app"]
    web = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert web.returncode != 0
    assert "PORTAL_RATELIMIT_STORAGE_URI=redis://" in web.stderr + web.stdout


@pytest.mark.time_machine(START, tick=False)
def test_staff_task_comments_are_throttled_in_place(make_app, app):
    throttled = make_app(STAFF_COMMENT_RATE="2 per minute")
    with app.app_context():
        made = make_tenant("staffthrottle")
        task = generate_task(made.application, "send_feedback", "send_feedback:throttle")
        db.session.commit()
        task_id = task.id
        client = throttled.test_client()
        login_as(client, made.recruiter)

    answers = [post(client, f"/agency/tasks/{task_id}/comments", {"body": f"Call {n}"}) for n in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert_wait(answers[2], 60, "1 minute")
    assert count(app, TaskComment) == 2


def test_task_comments_come_a_page_at_a_time(make_app, app):
    small = make_app(COMMENTS_PAGE_SIZE=3)
    with app.app_context():
        made = make_tenant("staffpages")
        task = generate_task(made.application, "send_feedback", "send_feedback:pages")
        for n in range(5):
            comment_on_task(task, made.recruiter, f"Staff note {n}.")
        db.session.commit()
        task_id = task.id
        client = small.test_client()
        login_as(client, made.recruiter)

    page = client.get(f"/agency/tasks/{task_id}").get_data(as_text=True)
    assert "Staff note 2." in page and "Staff note 4." in page and "Staff note 1." not in page
    link = page.split('class="earlier"><a', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    earlier = client.get(link, headers=HX).get_data(as_text=True)
    assert "Staff note 0." in earlier and "Staff note 1." in earlier and "Staff note 2." not in earlier
    assert "Show earlier comments" not in earlier
