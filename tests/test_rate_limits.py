"""Rate limits hold across processes (shared Redis storage) and key on the real client address.

The measured bug: with ``memory://`` each gunicorn worker counted on its own, so two workers let
20 tries through a limit of 10. Two apps built by ``create_app`` with the same storage URI stand
in for two workers here (each opens its own storage, as each worker process does). The Redis
tests run against the real server on 127.0.0.1:6379 (``TEST_REDIS_URL``), each under a key prefix
of its own that is deleted afterwards; they are skipped, with the reason shown, only when no
Redis answers there.
"""

import json
import os
import re
import uuid
from datetime import UTC, datetime

import pytest
import redis

from portal import create_app
from portal.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_agency

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The in-memory counters read the clock: with it stopped, a refusal's wait is exact.
START = datetime(2038, 2, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def redis_settings():
    """Settings that put an app's counters in the real Redis, under a prefix only this test uses."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        connection.close()
        pytest.skip(f"Redis is not running at {REDIS_URL}: the shared rate-limit tests did not run")
    prefix = f"portal-test-{uuid.uuid4().hex}"
    yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix}, "_keys": prefix}
    keys = list(connection.scan_iter(f"{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.fixture
def agency(app):
    with app.app_context():
        make_agency("ratelimited", name="Rate Limited")
        db.session.commit()
    return "ratelimited"


def ask_for_link(client, email: str, ip: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/ratelimited/login",
        data={"csrf_token": csrf_token(client), "email": email},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def two_workers(make_app, **settings):
    """Two apps on one storage setting, like two gunicorn workers."""
    return [make_app(SIGN_IN_RATE_PER_IP="10 per 10 minutes", **settings).test_client() for _ in range(2)]


def test_two_workers_share_one_bucket_in_redis(make_app, agency, redis_settings):
    prefix = redis_settings.pop("_keys")
    workers = two_workers(make_app, **redis_settings)

    answers = [ask_for_link(workers[n % 2], f"person{n}@client.example", "10.9.0.1").status_code for n in range(20)]

    assert answers == [200] * 10 + [429] * 10, "the limit of 10 holds across both workers"
    refused = ask_for_link(workers[0], "late@client.example", "10.9.0.1")
    # Redis keeps the window (and its clock): the wait is whatever is left of the ten minutes.
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert re.search(r"Try again in \d+ (minute|second)s?\.", refused.get_data(as_text=True))
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}*")), "the counters live in Redis"
    other_client = ask_for_link(workers[1], "someone@client.example", "10.9.0.2")
    assert other_client.status_code == 200


@pytest.mark.time_machine(START, tick=False)
def test_a_refusal_says_when_to_try_again_in_seconds_and_in_words(make_app, agency):
    client = make_app(SIGN_IN_RATE_PER_IP="3 per 10 minutes").test_client()
    for n in range(3):
        assert ask_for_link(client, f"early{n}@client.example", "10.9.2.1").status_code == 200

    page = ask_for_link(client, "late@client.example", "10.9.2.1")
    fragment = client.post(
        "/ratelimited/login",
        data={"csrf_token": csrf_token(client), "email": "late@client.example"},
        environ_base={"REMOTE_ADDR": "10.9.2.1"},
        headers={"HX-Request": "true"},
    )

    for refused in (page, fragment):
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"
        assert "Try again in 10 minutes." in refused.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    toast = json.loads(fragment.headers["HX-Trigger"])["toast"]
    assert toast["level"] == "error" and toast["message"].endswith("Try again in 10 minutes.")


def test_memory_storage_counts_per_worker(make_app, agency):
    """Why production refuses ``memory://``: each worker lets the full limit through."""
    workers = two_workers(make_app, RATELIMIT_STORAGE_URI="memory://")

    answers = [ask_for_link(workers[n % 2], f"person{n}@client.example", "10.9.1.1").status_code for n in range(20)]

    assert answers == [200] * 20
    assert ask_for_link(workers[0], "one.more@client.example", "10.9.1.1").status_code == 429


# Production settings


@pytest.fixture
def clean_environment(monkeypatch):
    names = ("PORTAL_RATELIMIT_STORAGE_URI", "PORTAL_RATELIMIT_SINGLE_PROCESS", "PORTAL_TRUSTED_PROXIES")
    for name in (*names, "PORTAL_RATELIMIT_TIMEOUT_S"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("storage", [None, "memory://"], ids=["unset", "memory"])
def test_production_web_refuses_per_process_counters(app_config, clean_environment, storage):
    """The web process refuses (gunicorn.conf.py calls the check); building the app, as
    ``flask db upgrade`` and the worker do, does not (tests/client/test_throttles.py runs both)."""
    from portal.ratelimit import check_web_storage

    settings = {**app_config, "ENV_NAME": "production", "SECRET_KEY": "x", "RATELIMIT_STORAGE_URI": storage}
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="PORTAL_RATELIMIT_STORAGE_URI=redis://"):
        check_web_storage(app, workers=2)
    with app.app_context():
        db.engine.dispose()


def test_production_takes_the_storage_from_the_environment(make_app, clean_environment, redis_settings):
    clean_environment.setenv("PORTAL_RATELIMIT_STORAGE_URI", REDIS_URL)
    production = make_app(ENV_NAME="production", SECRET_KEY="x")
    assert production.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    with production.app_context():
        from portal.extensions import limiter

        assert type(limiter.storage).__name__ == "RedisStorage"


def test_redis_sockets_give_up_soon_and_the_wait_is_configurable(make_app, clean_environment, redis_settings):
    redis_settings.pop("_keys")

    def socket_options(app) -> dict:
        with app.app_context():
            from portal.extensions import limiter

            kwargs = limiter.storage.storage.connection_pool.connection_kwargs
            return {name: kwargs[name] for name in ("socket_connect_timeout", "socket_timeout")}

    assert socket_options(make_app(**redis_settings)) == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    clean_environment.setenv("PORTAL_RATELIMIT_TIMEOUT_S", "2.5")
    assert socket_options(make_app(**redis_settings)) == {"socket_connect_timeout": 2.5, "socket_timeout": 2.5}
    with pytest.raises(RuntimeError, match="PORTAL_RATELIMIT_TIMEOUT_S"):
        make_app(**redis_settings, RATELIMIT_TIMEOUT_S="soon")


def test_a_single_process_install_may_keep_memory_storage(make_app, clean_environment):
    clean_environment.setenv("PORTAL_RATELIMIT_SINGLE_PROCESS", "true")
    production = make_app(ENV_NAME="production", SECRET_KEY="x", RATELIMIT_STORAGE_URI="memory://")
    assert production.config["RATELIMIT_SINGLE_PROCESS"] is True


# The client address behind a reverse proxy


def test_behind_one_trusted_proxy_each_client_has_its_own_bucket(make_app, agency):
    client = make_app(TRUSTED_PROXIES=1, SIGN_IN_RATE_PER_IP="3 per 10 minutes").test_client()
    proxy = "10.0.0.1"

    for n in range(3):
        assert ask_for_link(client, f"a{n}@client.example", proxy, forwarded="203.0.113.5").status_code == 200
    assert ask_for_link(client, "a9@client.example", proxy, forwarded="203.0.113.5").status_code == 429
    # A client cannot escape by sending its own X-Forwarded-For: the proxy appends the real address.
    forged = "198.51.100.77, 203.0.113.5"
    assert ask_for_link(client, "a9@client.example", proxy, forwarded=forged).status_code == 429

    assert ask_for_link(client, "b0@client.example", proxy, forwarded="203.0.113.6").status_code == 200


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(make_app, agency, clean_environment):
    direct = make_app(SIGN_IN_RATE_PER_IP="3 per 10 minutes")
    assert direct.config["TRUSTED_PROXIES"] == 0
    client = direct.test_client()

    for n in range(3):
        assert (
            ask_for_link(client, f"a{n}@client.example", "198.51.100.7", forwarded=f"203.0.113.{n}").status_code == 200
        )
    refused = ask_for_link(client, "a9@client.example", "198.51.100.7", forwarded="203.0.113.99")
    assert refused.status_code == 429


@pytest.mark.parametrize("value", ['"two"', "-1"])
def test_trusted_proxies_must_be_a_count(app_config, clean_environment, value):
    clean_environment.setenv("PORTAL_TRUSTED_PROXIES", value)
    with pytest.raises(RuntimeError, match="PORTAL_TRUSTED_PROXIES"):
        create_app(app_config)
